"""Search's own index: each issue's words with their scores, newest issue first.

`search_terms` holds one row per distinct word (lexeme) of an issue's `search` vector and the
word's score in that issue: 1.0 in the title, 0.4 only in the description, plus 0.1 for each
further use (at most 0.4 more). Its primary key (lexeme, issue_id) INCLUDE (score) lets a
search read a word's newest matches, intersect several words (a merge of lists already in issue
order) and score them from the index alone, however common the words are
(docs/adr/0014-search-terms.md).

Row triggers on `issues` keep it in step inside the writing transaction: the new issue's words
inserted, rewritten when its title or description changes, removed when it is deleted (a
statement trigger with a transition table would batch a COPY, but costs every single-issue
insert about 0.05 ms more of PostgreSQL's time; bulk loads disable the trigger and fill the
table in one statement, as bench/seed.py does).
Whoever empties `issues` with TRUNCATE empties `search_terms` too (PostgreSQL refuses a
TRUNCATE from a trigger of the TRUNCATE that names both). Existing issues are indexed here.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 16:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION search_term_score(weights text[]) RETURNS real
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN (CASE WHEN 'A' = ANY(weights) THEN 1.0 ELSE 0.4 END
                + 0.1 * least(greatest(cardinality(weights) - 1, 0), 4))::real
        """
    )
    op.execute(
        """
        CREATE TABLE search_terms (
            lexeme text NOT NULL,
            issue_id integer NOT NULL,
            score real NOT NULL
        ) WITH (autovacuum_vacuum_insert_scale_factor = 0.02)
        """
    )
    op.execute(
        """
        INSERT INTO search_terms (lexeme, issue_id, score)
        SELECT w.lexeme, i.id, search_term_score(w.weights) FROM issues i, unnest(i.search) w
        """
    )
    op.execute(
        "ALTER TABLE search_terms ADD CONSTRAINT pk_search_terms "
        "PRIMARY KEY (lexeme, issue_id) INCLUDE (score)"
    )
    op.execute(
        """
        CREATE FUNCTION index_search_terms() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                DELETE FROM search_terms
                WHERE lexeme = ANY(tsvector_to_array(OLD.search)) AND issue_id = OLD.id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO search_terms (lexeme, issue_id, score)
                SELECT w.lexeme, NEW.id, search_term_score(w.weights) FROM unnest(NEW.search) w;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER issues_search_terms_insert
        AFTER INSERT ON issues FOR EACH ROW EXECUTE FUNCTION index_search_terms()
        """
    )
    op.execute(
        """
        CREATE TRIGGER issues_search_terms_update
        AFTER UPDATE OF title, description ON issues
        FOR EACH ROW WHEN (NEW.search IS DISTINCT FROM OLD.search)
        EXECUTE FUNCTION index_search_terms()
        """
    )
    op.execute(
        """
        CREATE TRIGGER issues_search_terms_delete
        AFTER DELETE ON issues FOR EACH ROW EXECUTE FUNCTION index_search_terms()
        """
    )


def downgrade() -> None:
    for trigger in ("delete", "update", "insert"):
        op.execute(f"DROP TRIGGER issues_search_terms_{trigger} ON issues")
    op.execute("DROP FUNCTION index_search_terms()")
    op.execute("DROP TABLE search_terms")
    op.execute("DROP FUNCTION search_term_score(text[])")
