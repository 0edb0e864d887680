"""The explorer page in headless Chromium, used as a learner would (scripts/test-explorer.sh).

Drives Debian's Chromium through its ChromeDriver with Selenium (W3C WebDriver) against a
running gateway: an account made with the page's own form (a too common password refused
first), sign in (a wrong password first), the token's claims, key and lifetime, the
ID token and its checks, posts with their authors, a new post, a refresh, sign-out; then
the failure paths: a tampered `state` (the page refuses the callback) and a redirect URI
not registered (the authorize page refuses, no redirect). Screenshots of each step go to SCREENSHOTS.

    python3 test_explorer.py http://127.0.0.1:18180/ SCREENSHOTS_DIR
"""

import base64
import json
import secrets
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

BASE = sys.argv[1].rstrip("/")
SHOTS = Path(sys.argv[2])
CHROMEDRIVER = sys.argv[3] if len(sys.argv) > 3 else "/usr/bin/chromedriver"
CHROMIUM = sys.argv[4] if len(sys.argv) > 4 else "/usr/bin/chromium"
USERNAME = f"explorer-{secrets.token_hex(4)}"
PASSWORD = f"pw-{secrets.token_urlsafe(12)}"


def api(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1050",
                "--no-first-run", "--disable-extensions", "--lang=en-US"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


class Explorer:
    def __init__(self, driver):
        self.d = driver
        self.wait = WebDriverWait(driver, 15)

    def shot(self, name):
        """A full-page screenshot (Chrome DevTools), PNG."""
        metrics = self.d.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics["cssContentSize"]
        shot = self.d.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        })
        path = SHOTS / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        print(f"      screenshot {path}")

    def by(self, css):
        return self.wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def text(self, css):
        return self.by(css).text

    def until_text(self, css, fragment):
        self.wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), fragment))
        return self.d.find_element(By.CSS_SELECTOR, css).text

    def open(self):
        self.d.get(BASE + "/")
        self.by("#signin")

    def to_sign_in_page(self):
        self.by("#signin").click()
        self.wait.until(ec.url_contains("/oauth/authorize"))
        self.by("#username")

    def submit_credentials(self, password):
        user = self.by("#username")
        user.clear()
        user.send_keys(USERNAME)
        self.by("#password").send_keys(password)
        self.by("button[type=submit]").click()

    def storage(self):
        return self.d.execute_script(
            "return [window.sessionStorage.length, window.localStorage.length, document.cookie]")

    def calls(self):
        return [li.text for li in self.d.find_elements(By.CSS_SELECTOR, "#calls > li")]

    def console_problems(self):
        """Errors in the browser's console: CSP or Trusted Types violations, script errors.
        Not the 4xx answers the failure paths ask for ("Failed to load resource")."""
        return [e["message"] for e in self.d.get_log("browser")
                if e["level"] == "SEVERE" and "Failed to load resource" not in e["message"]]


# --- the steps -------------------------------------------------------------------------

def register(x):
    x.open()
    fill = lambda field, value: (x.by(field).clear(), x.by(field).send_keys(value))  # noqa: E731
    fill("#reg-username", USERNAME)
    fill("#reg-email", f"{USERNAME}@example.com")
    # One of the most common passwords: users-service refuses it, and the page says why.
    fill("#reg-password", "password1234")
    x.by("#register button[type=submit]").click()
    refused = x.until_text("#problem", "Creating the account failed")
    assert "common" in refused, refused
    fill("#reg-password", PASSWORD)
    x.by("#register button[type=submit]").click()
    x.until_text("#status", f"account {USERNAME} created")
    created = x.calls()[0]
    assert created.startswith("Create an account") and "201" in created, created
    x.shot("00-account-created")
    # Taken now: a second attempt is refused with the service's own words.
    status, _ = api("POST", "/users", {"username": USERNAME, "email": f"{USERNAME}@example.com",
                                       "password": PASSWORD})
    assert status == 409, status
    return f"{refused}; then {x.text('#status')}"


def wrong_password(x):
    x.open()
    x.to_sign_in_page()
    x.submit_credentials("not-the-password")
    message = x.until_text("[role=alert]", "Wrong username or password")
    assert "/oauth/authorize" in x.d.current_url, x.d.current_url
    x.shot("01-wrong-password")
    return message


def sign_in(x):
    x.submit_credentials(PASSWORD)
    x.wait.until(lambda d: not d.find_element(By.ID, "signed-in").get_attribute("hidden"))
    x.until_text("#signature", "verified")
    url = x.d.current_url
    assert url == BASE + "/", f"the code stays in the address bar: {url}"
    claims = {row.find_element(By.CSS_SELECTOR, "th").text: row.find_elements(By.CSS_SELECTOR, "td")[0].text
              for row in x.d.find_elements(By.CSS_SELECTOR, "#claims tr")}
    for claim in ("iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"):
        assert claim in claims, f"claim {claim} not shown: {sorted(claims)}"
    assert claims["client_id"] == "explorer", claims["client_id"]
    header = json.loads(x.text("#token-header"))
    assert header["alg"] == "RS256" and header["kid"] == x.text("#kid"), (header, x.text("#kid"))
    first = x.text("#lifetime")
    time.sleep(1.2)
    second = x.text("#lifetime")
    assert "left" in first and first != second, f"the lifetime does not tick: {first!r}, {second!r}"
    session, local, cookie = x.storage()
    assert (session, local) == (0, 0), f"sessionStorage {session} items, localStorage {local}: expected none"
    assert "eyJ" not in cookie, "a token in a readable cookie"
    discovery = [c for c in x.calls() if c.startswith("Discovery")]
    assert discovery and "says it came from http" in discovery[0], x.calls()
    # The ID token (scope openid): shown with the checks an OpenID Connect client makes.
    x.wait.until(lambda d: not d.find_element(By.ID, "id-token-area").get_attribute("hidden"))
    checks = [li.text for li in x.d.find_elements(By.CSS_SELECTOR, "#id-checks li")]
    assert len(checks) == 4 and all(c.startswith("\u2713") for c in checks), checks
    id_claims = {row.find_element(By.CSS_SELECTOR, "th").text: row.find_elements(By.CSS_SELECTOR, "td")[0].text
                 for row in x.d.find_elements(By.CSS_SELECTOR, "#id-claims tr")}
    assert id_claims.get("aud") == "explorer" and id_claims.get("sub") == claims["sub"], id_claims
    assert id_claims.get("preferred_username") == USERNAME and "nonce" in id_claims, id_claims
    x.shot("02-signed-in")
    return f"kid {header['kid']}, sub {claims['sub']}, {second}; ID token: {len(checks)} checks passed"


def create_and_list_posts(x):
    x.by("#post-title").send_keys("Hello from the explorer")
    x.by("#post-content").send_keys("Written in headless Chromium.")
    x.by("#new-post button[type=submit]").click()
    x.until_text("#status", "published")
    x.by("#load-posts").click()
    x.until_text("#status", "loaded")
    posts = x.d.find_elements(By.CSS_SELECTOR, "#posts > li.post")
    assert posts, "no posts listed"
    newest = posts[0]
    assert newest.find_element(By.CSS_SELECTOR, "h3").text == "Hello from the explorer"
    author = newest.find_element(By.CSS_SELECTOR, ".author").text
    assert author == USERNAME, f"author {author!r}, expected {USERNAME}"
    listed = x.calls()[0]
    assert "List posts" in listed and "200" in listed, listed
    assert "made 1 call to users-service" in listed, listed
    assert "X-Request-Id: explorer-" in listed, listed
    created = [c for c in x.calls() if c.startswith("Create a post")][0]
    assert "201" in created and "made no call to users-service" in created, created
    x.shot("03-posts")
    # The window alone, from the top: the README's picture (docs/explorer.png).
    size = x.d.get_window_size()
    x.d.set_window_size(1400, 1700)
    x.d.execute_script("window.scrollTo(0, 0); document.activeElement.blur()")
    x.d.save_screenshot(str(SHOTS / "03-posts-window.png"))
    x.d.set_window_size(size["width"], size["height"])
    return f"{len(posts)} post(s), newest by {author}"


def refresh(x):
    before = x.text("#kid"), x.d.find_element(By.ID, "claims").text
    x.by("#refresh").click()
    x.until_text("#status", "token refreshed")
    after = x.d.find_element(By.ID, "claims").text
    assert after != before[1], "the claims did not change"
    refreshed = x.calls()[1]  # newest first: the refresh, then the keys looked up again
    assert refreshed.startswith("Refresh") and "\n200 OK" in refreshed, refreshed
    return x.text("#status")


def sign_out(x):
    x.by("#signout").click()
    x.until_text("#status", "signed out")
    assert x.d.find_element(By.ID, "signed-in").get_attribute("hidden") is not None
    ended, revoked = x.calls()[0], x.calls()[1]
    assert ended.startswith("End the sign-in session") and "\n200 OK" in ended, ended
    assert "id_token_hint" in ended, ended
    assert revoked.startswith("Revoke") and "\n200 OK" in revoked, revoked
    x.shot("04-signed-out")
    # The page forgot its tokens: a reload shows the sign-in button, nothing else.
    x.d.refresh()
    x.by("#signin")
    assert x.d.find_element(By.ID, "signed-in").get_attribute("hidden") is not None
    # The sign-in session ended without a question: signing in again asks for the password.
    x.to_sign_in_page()
    x.by("#password")
    return "tokens forgotten, refresh token revoked, sign-in session ended (the next sign-in asks for the password)"


def tampered_state(x):
    x.open()
    x.to_sign_in_page()
    # The same request but for the state, as an attacker's link would carry: a real code
    # comes back, with a state this page never made.
    url = urllib.parse.urlsplit(x.d.current_url)
    query = dict(urllib.parse.parse_qsl(url.query))
    query["state"] = "tampered-" + secrets.token_hex(4)
    x.d.get(urllib.parse.urlunsplit(url._replace(query=urllib.parse.urlencode(query))))
    x.submit_credentials(PASSWORD)
    message = x.until_text("#problem", "state does not match")
    assert x.d.find_element(By.ID, "signed-in").get_attribute("hidden") is not None
    assert not [c for c in x.calls() if c.startswith("Code for tokens")], "the code was exchanged"
    assert x.storage()[0] == 0, "the verifier stayed in sessionStorage"
    assert x.d.current_url == BASE + "/", f"the code stays in the address bar: {x.d.current_url}"
    x.shot("05-tampered-state")
    return message


def unregistered_redirect(x):
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": "explorer", "redirect_uri": BASE + "/evil",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
        "state": "s", "scope": "posts:read",
    })
    x.d.get(f"{BASE}/oauth/authorize?{query}")
    message = x.text("[role=alert]")
    assert "/oauth/authorize" in x.d.current_url, f"redirected to {x.d.current_url}"
    assert not x.d.find_elements(By.CSS_SELECTOR, "form"), "a sign-in form for an unregistered redirect URI"
    x.shot("06-unregistered-redirect-uri")
    return message


STEPS = [
    ("create an account through the page's form (a too common password refused first)", register),
    ("wrong password: the sign-in page says so, and stays", wrong_password),
    ("sign in: back on /, the issuer of the response checked (RFC 9207), the token's header, claims, key "
     "(signature verified) and a ticking lifetime; "
     "the ID token with its checks; no token in storage", sign_in),
    ("create a post, then list posts with their authors; one users-service call for the list, none for the post",
     create_and_list_posts),
    ("refresh: a new access token", refresh),
    ("sign out: tokens forgotten, the refresh token revoked, the sign-in session ended by the ID token hint",
     sign_out),
    ("a tampered state: the page refuses the callback, exchanges nothing", tampered_state),
    ("a redirect URI not registered: the authorize page refuses, no redirect", unregistered_redirect),
]


def main():
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver = browser()
    passed = failed = 0
    try:
        print(f"Chromium {driver.capabilities.get('browserVersion')} headless; user {USERNAME}")
        x = Explorer(driver)
        for name, step in STEPS:
            try:
                detail = step(x)
                print(f"ok    {name}\n      {detail}")
                passed += 1
            except Exception as e:  # noqa: BLE001: every failure is reported, then the next step runs
                failed += 1
                print(f"FAIL  {name}\n      {type(e).__name__}: {e}")
                traceback.print_exc(limit=2, file=sys.stdout)
                try:
                    x.shot(f"failed-{step.__name__}")
                except Exception:  # noqa: BLE001
                    pass
            for problem in x.console_problems():
                failed += 1
                print(f"FAIL  the browser console, after '{step.__name__}': {problem}")
    finally:
        driver.quit()
    print(f"\ntest-explorer: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
