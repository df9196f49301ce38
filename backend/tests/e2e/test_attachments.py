"""Attachments through the real stack: a reporter attaches a screenshot on the issue page and sees
its preview, a maintainer downloads the very same bytes, and a new issue is filed with its files
from the form (with and without JavaScript); underneath, the web origin's /api proxy and session
cookie hold to the contract the pages rely on.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import psycopg
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import SECRET, Stack, make_user, new_issue, png_bytes, signed_in
from tests.sessions import signed_in_token
from tracker.localdb import to_libpq


def _stored(stack: Stack, issue_id: int) -> list[Path]:
    folder = stack.storage_dir / "issues" / str(issue_id)
    return sorted(folder.iterdir()) if folder.exists() else []


def _wait_until_interactive(page: Page) -> None:
    # Until the page is hydrated the uploader is a plain form with an Upload button.
    expect(page.get_by_test_id("attachment-dropzone")).to_be_visible()
    expect(page.get_by_role("button", name="Upload", exact=True)).to_have_count(0)


def _cookie(stack: Stack, user_id: int) -> dict[str, str]:
    return {"tracker_access": signed_in_token(SECRET, stack.database_url, user_id)}


def test_upload_through_the_web_origin_and_a_maintainer_downloads_the_same_bytes(
    stack: Stack,
) -> None:
    reporter = make_user(stack, "reporter@example.com", "REPORTER", "Reporter")
    maintainer = make_user(stack, "maintainer@example.com", "MAINTAINER", "Maintainer")
    issue_id = new_issue(stack, reporter)
    png = png_bytes()

    with httpx.Client(base_url=stack.web_url, cookies=_cookie(stack, reporter)) as browser:
        # Without the Origin header a cookie-authenticated write is refused (CSRF).
        refused = browser.post(
            f"/api/issues/{issue_id}/attachments", files=[("file", ("shot.png", png))]
        )
        assert refused.status_code == 403
        resp = browser.post(
            f"/api/issues/{issue_id}/attachments",
            files=[("file", ("shot.png", png, "image/png"))],
            headers={"Origin": stack.web_url},
        )
        assert resp.status_code == 201, resp.text
        [item] = resp.json()
        assert item["preview"] == "image"
        thumb = browser.get(item["thumbnail_url"])
        assert thumb.status_code == 200
        assert thumb.headers["content-type"] == "image/webp"

    with httpx.Client(base_url=stack.web_url, cookies=_cookie(stack, maintainer)) as staff:
        listed = staff.get(f"/api/issues/{issue_id}/attachments")
        assert [a["id"] for a in listed.json()] == [item["id"]]
        download = staff.get(item["url"], params={"download": 1})

    assert download.status_code == 200
    assert download.content == png
    assert hashlib.sha256(download.content).hexdigest() == item["sha256"]
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith('attachment; filename="shot.png"')
    stored = stack.storage_dir / "issues" / str(issue_id) / item["id"]
    assert stored.read_bytes() == png


def test_reporter_attaches_a_screenshot_and_a_maintainer_downloads_it(
    browser: Browser, stack: Stack, tmp_path: Path
) -> None:
    reporter_id = make_user(stack, "rita@example.com", "REPORTER", "Rita Reporter")
    maintainer_id = make_user(stack, "max@example.com", "MAINTAINER", "Max Maintainer")
    issue_id = new_issue(stack, reporter_id)
    png = png_bytes()
    shot = tmp_path / "checkout.png"
    shot.write_bytes(png)

    reporter = signed_in(browser, stack, reporter_id).new_page()
    reporter.goto(f"/issues/{issue_id}")
    files = reporter.get_by_test_id("attachments")
    expect(files.get_by_test_id("attachments-empty")).to_be_visible()
    _wait_until_interactive(reporter)

    files.locator("input[type=file]").set_input_files(str(shot))

    entry = files.get_by_test_id("upload-entry")
    expect(entry).to_have_attribute("data-status", "done")
    attachment = files.get_by_test_id("attachment")
    expect(attachment).to_have_count(1)
    expect(attachment).to_contain_text("checkout.png")
    expect(attachment).to_contain_text("Rita Reporter")
    preview = attachment.get_by_role("img", name="Preview of checkout.png")
    preview.scroll_into_view_if_needed()
    expect(preview).to_have_js_property("complete", True)
    assert preview.evaluate("img => img.naturalWidth") > 0
    # The page refreshed its data: the history and the count show the file too.
    expect(reporter.get_by_test_id("timeline")).to_contain_text("checkout.png")
    # Her own file on her own issue: she may delete it.
    expect(attachment.get_by_role("button", name="Delete checkout.png")).to_be_visible()

    # A file the server would refuse is explained before anything is sent.
    page_svg = tmp_path / "logo.svg"
    page_svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    files.locator("input[type=file]").set_input_files(str(page_svg))
    refused = files.get_by_test_id("upload-entry").filter(has_text="logo.svg")
    expect(refused).to_have_attribute("data-status", "error")
    expect(refused).to_contain_text("not accepted")
    expect(attachment).to_have_count(1)

    maintainer = signed_in(browser, stack, maintainer_id).new_page()
    maintainer.goto(f"/issues/{issue_id}")
    staff_view = maintainer.get_by_test_id("attachments").get_by_test_id("attachment")
    expect(staff_view).to_contain_text("checkout.png")
    with maintainer.expect_download() as info:
        staff_view.get_by_role("link", name="Download").click()
    download = info.value
    assert download.suggested_filename == "checkout.png"
    assert Path(download.path()).read_bytes() == png
    [stored] = [p for p in _stored(stack, issue_id) if not p.name.endswith(".thumb.webp")]
    assert stored.read_bytes() == png

    # Staff may delete anyone's file; the page refreshes without it.
    staff_view.get_by_role("button", name="Delete checkout.png").click()
    maintainer.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(maintainer.get_by_test_id("attachments-empty")).to_be_visible()
    expect(maintainer.get_by_test_id("timeline")).to_contain_text("checkout.png")


def test_filing_a_new_issue_with_files_from_the_form(
    browser: Browser, stack: Stack, tmp_path: Path
) -> None:
    reporter_id = make_user(stack, "rita@example.com", "REPORTER", "Rita Reporter")
    shot = tmp_path / "error.png"
    shot.write_bytes(png_bytes("navy"))
    log = tmp_path / "console.log"
    log.write_text("TypeError: undefined is not a function\n")
    fake = tmp_path / "invoice.pdf"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 300)  # an executable under a harmless name

    page = signed_in(browser, stack, reporter_id).new_page()
    page.goto("/issues/new")
    expect(page.get_by_test_id("attachment-dropzone")).to_be_visible()
    page.get_by_label("Title").fill("Checkout crashes after paying")
    # A refused file: the issue is not filed, the error says which file, the form keeps its text.
    page.get_by_test_id("attachment-dropzone").locator("input[type=file]").set_input_files(
        [str(shot), str(fake)]
    )
    expect(page.get_by_test_id("upload-entry")).to_have_count(2)
    page.get_by_role("button", name="Create issue", exact=True).last.click()
    expect(page.get_by_test_id("file-error")).to_contain_text("invoice.pdf")
    expect(page.get_by_test_id("file-error")).to_contain_text("Nothing was filed")
    expect(page).to_have_url(re.compile(r"/issues/new$"))
    expect(page.get_by_label("Title")).to_have_value("Checkout crashes after paying")
    with psycopg.connect(to_libpq(stack.database_url)) as conn:
        assert conn.execute("SELECT count(*) FROM issues").fetchone() == (0,)

    page.get_by_role("button", name="Remove invoice.pdf").click()
    page.get_by_test_id("attachment-dropzone").locator("input[type=file]").set_input_files(str(log))
    expect(page.get_by_test_id("upload-entry")).to_have_count(2)
    page.get_by_role("button", name="Create issue", exact=True).last.click()

    expect(page).to_have_url(re.compile(r"/issues/\d+$"))
    issue_id = int(page.url.rsplit("/", 1)[1])
    files = page.get_by_test_id("attachment")
    expect(files).to_have_count(2)
    expect(files.nth(0)).to_contain_text("error.png")
    expect(files.nth(1)).to_contain_text("console.log")
    assert len(_stored(stack, issue_id)) == 3  # two files and the screenshot's thumbnail

    # Without JavaScript the same form posts the files itself.
    plain = signed_in(browser, stack, reporter_id, javascript=False).new_page()
    plain.goto("/issues/new")
    plain.get_by_label("Title").fill("Export is empty")
    plain.locator("input[type=file][name=file]").set_input_files(str(log))
    plain.get_by_role("button", name="Create issue", exact=True).last.click()
    expect(plain).to_have_url(re.compile(r"/issues/\d+$"))
    expect(plain.get_by_test_id("attachment")).to_contain_text("console.log")
    # ...and so does the issue page's upload form.
    plain.locator("[data-testid=attachments] input[type=file]").set_input_files(str(shot))
    plain.get_by_role("button", name="Upload", exact=True).click()
    expect(plain.get_by_test_id("attachment")).to_have_count(2)
