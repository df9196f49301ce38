"""Issues in from a spreadsheet through the import wizard, and out again as the list shows them."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from playwright.sync_api import Browser, FilePayload, Locator, Page, expect

from tests.e2e.conftest import Stack, make_user, signed_in

ROWS = [
    # Summary, Description, Severity, Tags, Notes
    ("Checkout button does nothing", "Safari only", "HIGH", "billing, checkout", "seen twice"),
    ("Invoice PDF is blank", "", "medium", "billing", ""),
    ("Dark mode contrast is too low", "Grey on grey", "LOW", "ui", ""),
    ("Search ignores accents", "", "MEDIUM", "search", "from the forum"),
    ("Refund e-mail never arrives", "Customers wait\nfor days", "CRITICAL", "billing", ""),
]
TITLES = [r[0] for r in ROWS]
BILLING = sorted(r[0] for r in ROWS if "billing" in r[3])
# The worker takes a queued import up within IMPORT_INTERVAL_SECONDS (2 s) of a busy machine.
IMPORT_TIMEOUT_MS = 30_000


def spreadsheet() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Summary", "Description", "Severity", "Tags", "Notes"])
    writer.writerows(ROWS)
    return out.getvalue().encode()


def upload(page: Page, name: str, mime: str, content: bytes) -> None:
    page.get_by_label("File", exact=True).set_input_files(
        files=FilePayload(name=name, mimeType=mime, buffer=content)
    )
    page.get_by_role("button", name="Upload and check").click()


def test_maintainer_imports_a_spreadsheet_then_exports_the_filtered_list(
    browser: Browser, stack: Stack
) -> None:
    maintainer = signed_in(
        browser, stack, make_user(stack, "ines@example.com", "MAINTAINER", "Ines Importer")
    )
    page = maintainer.new_page()
    try:
        page.goto("/issues")
        page.get_by_role("link", name="Import", exact=True).click()
        expect(page).to_have_url(re.compile(r"/imports$"))
        upload(page, "complaints.csv", "text/csv", spreadsheet())

        # The mapping is guessed from the header ("Summary" is the title), the first rows shown,
        # and the dry run says what would happen.
        def field(column: str) -> Locator:
            return page.get_by_role("combobox", name=f"Field for {column}")

        expect(field("Summary")).to_have_value("title")
        expect(field("Severity")).to_have_value("severity")
        expect(field("Tags")).to_have_value("tags")
        expect(field("Notes")).to_have_value("")
        expect(page.get_by_test_id("import-preview")).to_contain_text("Invoice PDF is blank")
        report = page.get_by_test_id("dry-run-report")
        expect(page.get_by_test_id("dry-run-rows")).to_have_text("5")
        expect(page.get_by_test_id("dry-run-would-create")).to_have_text("5")
        expect(page.get_by_test_id("dry-run-refused")).to_have_text("0")
        expect(page.get_by_test_id("ignored-columns")).to_contain_text("Notes")

        # Another mapping is checked again at once: two columns for one field are refused.
        field("Notes").select_option("description")
        expect(report.get_by_role("alert")).to_contain_text(
            "More than one column maps to description"
        )
        expect(page.get_by_role("button", name="Import", exact=True)).to_be_disabled()
        field("Notes").select_option("")
        expect(page.get_by_test_id("dry-run-would-create")).to_have_text("5")

        page.get_by_role("button", name="Import", exact=True).click()
        expect(page).to_have_url(re.compile(r"/imports/\d+$"))
        progress = page.get_by_role("progressbar", name="Import progress")
        expect(page.get_by_test_id("import-state")).to_have_text("Done", timeout=IMPORT_TIMEOUT_MS)
        expect(progress).to_have_attribute("aria-valuenow", "5")
        expect(progress).to_have_attribute("aria-valuemax", "5")
        expect(page.get_by_test_id("report-created")).to_have_text("5")
        expect(page.get_by_test_id("report-refused")).to_have_text("0")

        page.get_by_role("link", name="See the imported issues").click()
        expect(page).to_have_url(re.compile(r"/issues$"))
        issues = page.get_by_test_id("issue-list")
        for title in TITLES:
            expect(issues).to_contain_text(title)

        # Filtered to one tag, the export holds exactly the issues the list shows.
        page.get_by_role("combobox", name="Tag").select_option("billing")
        expect(page).to_have_url(re.compile(r"tag=billing"))
        expect(issues.locator("li")).to_have_count(len(BILLING))
        page.get_by_test_id("export-menu").get_by_text("Export", exact=True).click()
        with page.expect_download() as downloaded:
            page.get_by_role("link", name="CSV").click()
        download = downloaded.value
        assert download.suggested_filename.endswith(".csv")
        text = Path(download.path()).read_text(encoding="utf-8-sig")
        exported = list(csv.DictReader(io.StringIO(text)))
        assert sorted(row["title"] for row in exported) == BILLING
        assert all("billing" in row["tags"] for row in exported)
        refund = next(row for row in exported if row["title"].startswith("Refund"))
        assert refund["severity"] == "CRITICAL"
        assert refund["description"] == "Customers wait\nfor days"
    finally:
        maintainer.close()


def test_the_wizard_works_without_javascript(browser: Browser, stack: Stack) -> None:
    user_id = make_user(stack, "noah@example.com", "ADMIN", "Noah Nojs")
    ctx = signed_in(browser, stack, user_id, javascript=False)
    page = ctx.new_page()
    items = [
        {"Subject": "Export times out", "Priority": "high", "Labels": ["export"], "Id": "EXT-1"},
        {"Subject": "Avatar upload fails", "Priority": "low", "Labels": [], "Id": "EXT-2"},
        {"Subject": "", "Priority": "low", "Labels": [], "Id": "EXT-3"},
    ]
    try:
        page.goto("/imports")
        page.get_by_label("Skip refused rows").check()
        upload(page, "other-tracker.json", "application/json", json.dumps(items).encode())
        expect(page.get_by_role("combobox", name="Field for Subject")).to_have_value("title")
        expect(page.get_by_role("combobox", name="Field for Id")).to_have_value("external_id")
        expect(page.get_by_test_id("dry-run-would-create")).to_have_text("2")
        expect(page.get_by_test_id("dry-run-refused")).to_have_text("1")
        expect(page.get_by_test_id("refusals")).to_contain_text("Item 3")

        # A changed mapping is checked with the button, the file kept on the server meanwhile.
        page.get_by_role("combobox", name="Field for Labels").select_option("")
        page.get_by_role("button", name="Check again").click()
        expect(page.get_by_test_id("ignored-columns")).to_contain_text("Labels")
        expect(page.get_by_role("combobox", name="Field for Labels")).to_have_value("")

        page.get_by_role("button", name="Import", exact=True).click()
        expect(page).to_have_url(re.compile(r"/imports/\d+$"))
        # The page reads the progress again by itself until the import is done.
        expect(page.get_by_test_id("import-state")).to_have_text("Done", timeout=IMPORT_TIMEOUT_MS)
        expect(page.get_by_test_id("report-created")).to_have_text("2")
        expect(page.get_by_test_id("report-refused")).to_have_text("1")
        expect(page.get_by_test_id("import-report")).to_contain_text("Item 3")

        page.goto("/imports")
        expect(page.get_by_test_id("recent-imports")).to_contain_text("other-tracker.json")
    finally:
        ctx.close()


def test_reporters_cannot_import(browser: Browser, stack: Stack) -> None:
    reporter = signed_in(
        browser, stack, make_user(stack, "rory@example.com", "REPORTER", "Rory Reporter")
    )
    page = reporter.new_page()
    try:
        page.goto("/issues")
        expect(page.get_by_role("link", name="New issue")).to_be_visible()
        expect(page.get_by_role("link", name="Import", exact=True)).to_have_count(0)
        response = page.goto("/imports")
        assert response is not None and response.status == 403
        expect(
            page.get_by_text("Only maintainers and administrators can import issues.")
        ).to_be_visible()
    finally:
        reporter.close()
