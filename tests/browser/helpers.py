"""What the browser tests do as people: sign in to the widget and the console, find
messages, collect page errors. Every wait is bounded and waits for a condition."""
import json
import re
import uuid

import httpx
from playwright.sync_api import Page, expect
from websockets.sync.client import connect as ws_connect

from branchline.web.demo_data import DEMO_BANK_CLIENT
from tests.support.idp import customer_token
from tests.support.servers import ROOT, staff_sign_in

DEMO_PASSWORD = "branchline-demo"
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"

WAIT = 10_000  # ms: every wait is bounded and waits for a condition, never a fixed sleep
PHONE = {"width": 390, "height": 760}
DESKTOP = {"width": 1280, "height": 800}

SENT_OR_LATER = re.compile(r"^(sent|delivered|read)$")


def demo_bank_env(bank, port: int, **extra: str) -> dict:
    """The demo server's settings for its bank (conftest's demo_bank), as the Makefile's
    DEMO_ENV gives them, and `extra`."""
    client_id, secret = DEMO_BANK_CLIENT
    return {"BRANCHLINE_CUSTOMER_OIDC_ISSUER": bank.issuer, "BRANCHLINE_CUSTOMER_OIDC_CLIENT_ID": client_id,
            "BRANCHLINE_CUSTOMER_OIDC_CLIENT_SECRET": secret,
            "BRANCHLINE_CUSTOMER_OIDC_REDIRECT_URI": f"http://127.0.0.1:{port}/sso/callback",
            "BRANCHLINE_CUSTOMER_OIDC_SCOPES": "openid profile bank", **extra}


def bubble(page: Page, kind: str, text: str):
    """A message in the page's #messages list: kind is mine / theirs / system."""
    return page.locator(f"#messages li.msg.{kind}", has_text=text)


def watch_errors(page: Page, label: str, errors: list[str]) -> None:
    # A failed request's message names no address: its location does (which call failed).
    page.on("console", lambda m: errors.append(f"{label} console.{m.type}: {m.text} [{m.location.get('url', '')}]")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{label} pageerror: {e}"))


def expect_online(page: Page) -> None:
    expect(page.locator("#status")).to_have_class(re.compile(r"\bonline\b"), timeout=WAIT)


def open_page(browser, base_url: str, viewport: dict, label: str, errors: list[str], *, fake_clock: bool = False,
              axe: bool = False, locale: str = "en-US") -> Page:
    """A page in a fresh browser context (no cookies, no sessionStorage). With `axe`, axe-core
    is in the page; with `fake_clock`, its timers run on Playwright's clock (page.clock.run_for);
    `locale`: the browser's language (Accept-Language, navigator.language, Intl)."""
    context = browser.new_context(viewport=viewport, base_url=base_url, locale=locale)
    context.set_default_timeout(WAIT)
    if axe:
        with_axe(context)
    page = context.new_page()
    watch_errors(page, label, errors)
    if fake_clock:
        page.clock.install()
    return page


def customer_signs_in(browser, base_url: str, errors: list[str], label: str, *, frames: list[str] | None = None):
    """A fresh browser context (so no sessionStorage token, and not signed in at the bank)
    signs in as Jan on the demo bank's own sign-in page; with `frames`, every socket frame
    the widget receives is collected there."""
    page = open_page(browser, base_url, PHONE, label, errors)
    context = page.context
    if frames is not None:
        record_socket_frames(page, frames)
    page.goto("/chat/")
    expect(page.locator("#welcome")).to_be_visible(timeout=WAIT)
    page.click("#sign-in-bank")
    page.wait_for_url(re.compile(r"/interaction/"))
    page.fill("input[name=login]", "jan.kowalski")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/chat/"))
    expect(page.locator("#conversation")).to_be_visible(timeout=WAIT)
    expect(page.locator("#who")).to_have_text("Signed in as Jan Kowalski", timeout=WAIT)
    expect_online(page)  # the socket connects after the newest history page is rendered
    return context, page


def reveal_history(page: Page, text: str):
    """Page back with "Show earlier messages" until a message with `text` is in the list."""
    target = page.locator("#messages li.msg", has_text=text)
    items = page.locator("#messages li")
    more = page.locator("#load-earlier")
    for _ in range(20):
        if target.count() or not more.is_visible():
            break
        before = items.count()
        more.click()
        expect(items).not_to_have_count(before, timeout=WAIT)
    return target


def agent_signs_in(browser, base_url: str, errors: list[str], *, username: str = "anna", **options) -> Page:
    page = open_page(browser, base_url, DESKTOP, username, errors, **options)
    page.goto("/console/")
    page.wait_for_url("**/console/login/**")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/console/$"))
    expect_online(page)
    return page


def record_socket_frames(page: Page, frames: list[str]) -> None:
    """Every frame the page's WebSockets receive, as text, from now on."""
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode(errors="replace"))))


def guest_opens_chat(browser, base_url: str, errors: list[str], *, frames: list[str] | None = None, **options):
    """A fresh context opens the widget and continues as a guest (options: see open_page);
    with `frames`, every socket frame the widget receives is collected there."""
    page = open_page(browser, base_url, PHONE, "customer", errors, **options)
    context = page.context
    if frames is not None:
        record_socket_frames(page, frames)
    page.goto("/chat/")
    page.click("#guest")
    expect(page.locator("#conversation")).to_be_visible(timeout=WAIT)
    expect_online(page)
    return context, page


def guest_writes(page: Page, text: str, topic: str = "Loans") -> None:
    """The guest's first message: a topic, then the text, sent with Enter."""
    page.select_option("#topic", label=topic)
    page.fill("#body", text)
    page.press("#body", "Enter")
    expect(bubble(page, "mine", text)).to_have_attribute("data-state", SENT_OR_LATER)


def with_axe(context) -> None:
    """axe-core (from frontend/node_modules) in every page of the context. Init scripts are
    injected by the browser's debugging protocol, so the pages' CSP does not block them."""
    context.add_init_script(path=str(AXE))


def serious_accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
        .map((v) => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" "))}))""")
    return [f"{v['impact']} {v['id']} ({v['help']}): {v['nodes'][:3]}" for v in violations
            if v["impact"] in {"serious", "critical"}]


class CustomerApi:
    """A customer without a browser: signed in with the demo bank, sends over HTTP, frames
    over a socket."""

    def __init__(self, base_url: str, subject: str):
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=10)
        with httpx.Client(timeout=10) as browser:  # the bank's cookies stay in that browser
            self.token = customer_token(browser, base_url, subject, DEMO_PASSWORD)
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.socket = None

    def send(self, body: str, topic: str = "Loans") -> dict:
        topic_id = next(t["id"] for t in self.http.get("/api/topics").json() if t["name"] == topic)
        sent = self.http.post("/api/customer/messages", json={"body": body, "client_message_id": str(uuid.uuid4()),
                                                              "topic_id": topic_id})
        sent.raise_for_status()
        return sent.json()["message"]

    def typing(self, conversation_id: int, is_typing: bool = True) -> None:
        if self.socket is None:
            self.socket = ws_connect(self.base_url.replace("http", "ws", 1) + "/ws", open_timeout=10)
            self.socket.send(json.dumps({"type": "hello", "token": self.token}))
            assert json.loads(self.socket.recv(timeout=10))["type"] == "ready"
        self.socket.send(json.dumps({"type": "typing", "conversation_id": conversation_id, "is_typing": is_typing}))

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
        self.http.close()


class StaffApi:
    """A member of staff without a browser: session cookie plus the CSRF header."""

    def __init__(self, base_url: str, username: str):
        self.http = httpx.Client(base_url=base_url, timeout=10)
        staff_sign_in(self.http, username, DEMO_PASSWORD).raise_for_status()

    def post(self, path: str, body: dict | None = None) -> dict:
        answer = self.http.post(path, json=body, headers={"X-CSRFToken": self.http.cookies["csrftoken"]})
        answer.raise_for_status()
        return answer.json()

    def waiting(self) -> list[dict]:
        return self.http.get("/api/staff/conversations", params={"state": "waiting"}).json()

    def accept_and_reply(self, conversation_id: int, text: str) -> None:
        self.post(f"/api/staff/conversations/{conversation_id}/accept")
        self.post(f"/api/staff/conversations/{conversation_id}/messages",
                  {"body": text, "client_message_id": str(uuid.uuid4())})


def agent_takes_a_guest(browser, base_url: str, errors: list[str], frames: list[str], text: str,
                        username: str = "anna"):
    """A guest writes `text` on Cards; the agent signs in and accepts it from Waiting.
    Returns (the guest's context, the guest's page, the agent's page, the conversation id)."""
    context, customer = guest_opens_chat(browser, base_url, errors, frames=frames)
    guest_writes(customer, text, topic="Cards")
    conversation = StaffApi(base_url, username).waiting()[0]["id"]
    agent = agent_signs_in(browser, base_url, errors, username=username)
    agent.click("#tab-waiting")
    agent.click(f'#list button[data-id="{conversation}"]')
    agent.click("#accept")
    # Taken: the reply box is there (it takes the focus when it appears, so wait for it).
    expect(agent.locator("#body")).to_be_focused()
    return context, customer, agent, conversation
