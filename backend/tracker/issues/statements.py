"""The issues domain's compiled statements, by name: what a program that must send exactly the
API's SQL may import. The benchmark's raw baseline (bench/baseline.py) does, so that it and the
API can never drift apart; bench/statements.py checks it in PostgreSQL's log.

These names are public and keep their meaning; everything else in the issues domain may change
without notice. A fixed statement is a `tracker.db.Sql` (`.text`, `.args(params)`); one whose
SQL depends on choices is a `tracker.db.StatementCache`, called with those choices, returning
the `Sql` the API uses for them.

- list: `list_statement(ListShape, sort, has_cursor, page_rows(shape, sort, limit))`, its tags
  looked up first with `TAG_IDS`; with a text, in a transaction that sends `CUSTOM_PLANS`
  first. A search of plain words (`plain_words`, at most `SEARCH_WORDS_MAX` of them, words
  from `LEXEMES`, remembered up to `LEXEME_CACHE_SIZE` texts) with nothing else filtering the
  list is `search_statement(words, has_cursor)` instead.
- an issue's page: `detail_statement(scoped)`.
- filing: `INSERT_ISSUE_ALONE` (every tag exists: one statement, no transaction); else
  `INSERT_ISSUE`, `TAG_IDS`, `new_tags_statement(count)`, `ADD_TAGS`, then the event
  (tracker.activity.repository.RECORD_EVENT).
- an edit: `LOCK_FOR_UPDATE`, then `update_statement(update_names(values))` (a resolution
  time of `NOW` comes from the database clock), the event, the page.
"""

from tracker.issues.filing import INSERT_ISSUE, INSERT_ISSUE_ALONE
from tracker.issues.filters import ListShape
from tracker.issues.repository import (
    CUSTOM_PLANS,
    LOCK_FOR_UPDATE,
    NOW,
    detail_statement,
    list_statement,
    page_rows,
    update_names,
    update_statement,
)
from tracker.issues.search import (
    LEXEME_CACHE_SIZE,
    LEXEMES,
    SEARCH_WORDS_MAX,
    plain_words,
    search_statement,
)
from tracker.issues.tags import ADD_TAGS, TAG_IDS, new_tags_statement

__all__ = [
    "ADD_TAGS",
    "CUSTOM_PLANS",
    "INSERT_ISSUE",
    "INSERT_ISSUE_ALONE",
    "LEXEMES",
    "LEXEME_CACHE_SIZE",
    "LOCK_FOR_UPDATE",
    "NOW",
    "SEARCH_WORDS_MAX",
    "TAG_IDS",
    "ListShape",
    "detail_statement",
    "list_statement",
    "new_tags_statement",
    "page_rows",
    "plain_words",
    "search_statement",
    "update_names",
    "update_statement",
]
