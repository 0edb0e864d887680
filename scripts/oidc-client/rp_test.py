"""users-service as an OpenID Provider, seen by a standard relying party: authlib.

Run by scripts/test-oidc-client.sh, which starts users-service with the clients and the
user named below. By hand, against a users-service whose OAUTH_CLIENTS has them:

    USERS_URL=http://127.0.0.1:8081 RP_USERNAME=… RP_PASSWORD=… \
    RP_PUBLIC_CLIENT=… RP_CONFIDENTIAL_CLIENT=… RP_CONFIDENTIAL_SECRET=… \
    RP_REDIRECT_URI=… python rp_test.py

Everything the relying party does is authlib's own client, unchanged, as its Flask,
Django and Starlette integrations assemble it (OAuth2Mixin + OpenIDMixin over the
requests OAuth2Session), minus the web framework: discovery from the issuer's
/.well-known/openid-configuration and nothing else configured, the authorization URL with
PKCE S256, a state and a nonce, the token request (state checked, code_verifier, client
authentication none or client_secret_basic), `parse_id_token` (joserfc's JWS decode over
the JWKS the discovery names, restricted to its id_token_signing_alg_values_supported,
then `authlib.oidc.core.CodeIDToken.validate`: iss, aud, exp, iat, nonce, azp, at_hash,
auth_time; its `claims_options` name the issuer and, beyond its default, the client as
the audience), `userinfo`, and a refresh through OAuth2Session. Only the user's part is played here: the sign-in page is
fetched with requests, its form read with html.parser and posted back with the cookies,
and the 303's Location is the callback the relying party receives.

Each result is one line on stdout, for scripts/lib/checks.sh: `pass<TAB>text`,
`fail<TAB>text<TAB>details` or `step<TAB>text`. The exit status is 0 when nothing failed.
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.deprecate import AuthlibDeprecationWarning

# Nothing deprecated in authlib is used: authlib 1.9 deprecates authlib.jose, and its own
# OpenID client (parse_id_token, below) decodes with joserfc instead.
warnings.simplefilter("error", AuthlibDeprecationWarning)

from authlib.integrations.base_client import BaseApp, OAuth2Mixin, OpenIDMixin  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.oidc import discovery, rpinitiated  # noqa: E402
from joserfc.errors import BadSignatureError, InvalidClaimError  # noqa: E402

USERS_URL = os.environ.get("USERS_URL", "http://127.0.0.1:8081").rstrip("/")
USERNAME = os.environ["RP_USERNAME"]
PASSWORD = os.environ["RP_PASSWORD"]
EMAIL = os.environ.get("RP_EMAIL")
REDIRECT_URI = os.environ["RP_REDIRECT_URI"]
PUBLIC = os.environ["RP_PUBLIC_CLIENT"]
CONFIDENTIAL = os.environ["RP_CONFIDENTIAL_CLIENT"]
CONFIDENTIAL_SECRET = os.environ["RP_CONFIDENTIAL_SECRET"]
SCOPE = "openid profile email"
DISCOVERY_URL = discovery.get_well_known_url(USERS_URL, external=True)
TIMEOUT = 10

failures = 0


def emit(*fields: str) -> None:
    print("\t".join(" ".join(str(f).split()) for f in fields), flush=True)


def passed(text: str) -> None:
    emit("pass", text)


def failed(text: str, details: object = "") -> None:
    global failures
    failures += 1
    emit("fail", text, details)


def step(text: str) -> None:
    emit("step", text)


class RelyingParty(OAuth2Mixin, OpenIDMixin, BaseApp):
    """authlib's OAuth 2.0 / OpenID Connect client app, as FlaskOAuth2App is built, with no
    web framework: the callback's state is kept by the caller instead of a session."""

    client_cls = OAuth2Session


def relying_party(client_id: str, secret: str | None, auth_method: str) -> RelyingParty:
    # Only watches: each request the relying party sends, to see how it authenticated.
    sent: list[requests.PreparedRequest] = []
    rp = RelyingParty(
        framework=None,
        name=client_id,
        client_id=client_id,
        client_secret=secret,
        server_metadata_url=DISCOVERY_URL,
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": auth_method,
            "default_timeout": TIMEOUT,
            "hooks": {"response": [lambda response, **_: sent.append(response.request)]},
        },
    )
    rp.sent = sent
    return rp


def token_request_authentication(rp: RelyingParty) -> str:
    """How the last request to the token endpoint authenticated the client."""
    endpoint = rp.load_server_metadata()["token_endpoint"]
    request = [r for r in rp.sent if r.method == "POST" and r.url == endpoint][-1]
    body = parse_qs(request.body if isinstance(request.body, str) else (request.body or b"").decode())
    if request.headers.get("Authorization", "").startswith("Basic "):
        return "client_secret_basic" if "client_secret" not in body else "basic and post"
    if "client_secret" in body:
        return "client_secret_post"
    return "none" if body.get("client_id") == [rp.client_id] else "no client_id"


class FormReader(HTMLParser):
    """The sign-in page's form: its action and every input's name and value."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.in_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action") or ""
            self.in_form = True
        elif tag == "input" and self.in_form and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False


def sign_in(authorization_url: str) -> tuple[str, requests.Session]:
    """The user's browser: the page, the form posted with the credentials and the page's
    cookies, the redirect not followed. Returns its Location, and the browser (its cookies:
    the sign-in session)."""
    browser = requests.Session()
    page = browser.get(authorization_url, timeout=TIMEOUT, allow_redirects=False)
    if page.status_code != 200:
        raise AssertionError(f"GET the authorization URL: {page.status_code} {page.text[:300]}")
    if "signin_csrf" not in browser.cookies:
        raise AssertionError("the sign-in page set no signin_csrf cookie")
    form = FormReader()
    form.feed(page.text)
    if form.action is None or "csrf" not in form.fields:
        raise AssertionError(f"no sign-in form with a csrf field on the page: {page.text[:300]}")
    fields = dict(form.fields, username=USERNAME, password=PASSWORD)
    answer = browser.post(urljoin(page.url, form.action), data=fields, timeout=TIMEOUT, allow_redirects=False)
    if answer.status_code != 303 or "Location" not in answer.headers:
        raise AssertionError(f"POST the sign-in form: {answer.status_code} {answer.text[:300]}")
    return answer.headers["Location"], browser


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def expect_refusal(text: str, error_cls: type[BaseException], claim: str | None, attempt) -> None:
    """`attempt()` must raise `error_cls` (about `claim`, for claim errors)."""
    try:
        attempt()
    except error_cls as error:
        if claim is None or getattr(error, "claim", None) == claim or f"'{claim}'" in str(error):
            passed(f"{text} ({describe(error)})")
        else:
            failed(text, f"refused, but not for {claim}: {describe(error)}")
    except Exception as error:  # noqa: BLE001 - any other error is a wrong answer
        failed(text, f"expected {error_cls.__name__}, got {describe(error)}")
    else:
        failed(text, "accepted")


def check_discovery(rp: RelyingParty) -> dict | None:
    step(f"discovery: {DISCOVERY_URL}")
    try:
        metadata = dict(rp.load_server_metadata())
    except Exception as error:  # noqa: BLE001
        failed("the discovery document loads", describe(error))
        return None
    metadata.pop("_loaded_at", None)
    passed(f"authlib loads {DISCOVERY_URL}")
    try:
        discovery.OpenIDProviderMetadata(metadata).validate(metadata_classes=[rpinitiated.OpenIDProviderMetadata])
        passed("the document passes authlib's OpenIDProviderMetadata.validate() (OpenID Discovery, RFC 8414, RP-Initiated Logout)")
    except Exception as error:  # noqa: BLE001
        failed("the document passes authlib's OpenIDProviderMetadata.validate()", describe(error))
    # OpenID Connect Discovery §4.3: the issuer is the URL the document was fetched under.
    if discovery.get_well_known_url(metadata.get("issuer", ""), external=True) == DISCOVERY_URL:
        passed(f"its issuer is the URL it was fetched under ({metadata['issuer']})")
    else:
        failed("its issuer is the URL it was fetched under", f"issuer {metadata.get('issuer')!r}")
    if "S256" in metadata.get("code_challenge_methods_supported", []):
        passed("it offers PKCE S256")
    else:
        failed("it offers PKCE S256", metadata.get("code_challenge_methods_supported"))
    return metadata


def code_flow(label: str, rp: RelyingParty, auth_method: str) -> dict | None:
    """The whole flow for one client; the token and what the relying party learned."""
    step(f"{label} client {rp.client_id}: authorization code flow, token_endpoint_auth_method={auth_method}")
    try:
        request = rp.create_authorization_url(REDIRECT_URI)
        query = parse_qs(urlsplit(request["url"]).query)
        for name, want in (("code_challenge_method", "S256"), ("nonce", request.get("nonce"))):
            if not want or query.get(name) != [want]:
                raise AssertionError(f"{name} is not in the authorization URL: {request['url']}")
        passed("authorization URL from discovery's authorization_endpoint, with PKCE S256, state and nonce")
    except Exception as error:  # noqa: BLE001
        failed(f"{label}: authlib builds the authorization URL", describe(error))
        return None
    try:
        location, browser = sign_in(request["url"])
        if not location.startswith(REDIRECT_URI + "?") or "code=" not in location:
            raise AssertionError(f"redirected to {location}")
        passed("sign-in page: form posted with its csrf field and cookie, 303 to the redirect URI with a code")
    except Exception as error:  # noqa: BLE001
        failed(f"{label}: the user signs in on the page", describe(error))
        return None
    try:
        token = rp.fetch_access_token(
            REDIRECT_URI,
            authorization_response=location,
            state=request["state"],
            code_verifier=request["code_verifier"],
        )
        missing = [k for k in ("access_token", "refresh_token", "id_token") if k not in token]
        if missing or str(token.get("token_type", "")).lower() != "bearer":
            raise AssertionError(f"missing {missing} or not a Bearer token: {sorted(token)}")
        sent_as = token_request_authentication(rp)
        if sent_as != auth_method:
            raise AssertionError(f"the token request authenticated as {sent_as}, not {auth_method}")
        passed(
            f"token endpoint ({sent_as}): state checked, code and code_verifier redeemed, access, refresh and ID tokens"
        )
    except Exception as error:  # noqa: BLE001
        failed(f"{label}: authlib redeems the code", describe(error))
        return None
    try:
        claims = rp.parse_id_token(token, request["nonce"], claims_options=claims_options(rp, rp.client_id))
        passed(
            "ID token: authlib's parse_id_token (signature against jwks_uri, CodeIDToken: iss, aud, exp, iat, "
            f"nonce, azp, at_hash, auth_time) accepts it; sub={claims['sub']} aud={claims['aud']} azp={claims.get('azp')}"
        )
    except Exception as error:  # noqa: BLE001
        failed(f"{label}: authlib's ID-token checks accept the ID token", describe(error))
        return None
    for name in ("nonce", "at_hash", "auth_time"):
        if name not in claims:
            failed(f"{label}: the ID token carries {name} (so CodeIDToken checked it)", sorted(claims))
    try:
        info = rp.userinfo(token=token)
        want = {"sub": claims["sub"], "preferred_username": USERNAME}
        if EMAIL:
            want["email"] = EMAIL
        wrong = {k: info.get(k) for k, v in want.items() if info.get(k) != v}
        if wrong:
            raise AssertionError(f"expected {want}, got {dict(info)}")
        passed("userinfo through the session: sub matches the ID token's, profile and email claims")
    except Exception as error:  # noqa: BLE001
        failed(f"{label}: authlib's userinfo()", describe(error))
    try:
        old_refresh_token = token["refresh_token"]
        session = OAuth2Session(
            rp.client_id,
            rp.client_secret,
            token_endpoint_auth_method=auth_method,
            token=dict(token),
            default_timeout=TIMEOUT,
        )
        with session:
            refreshed = session.refresh_token(rp.load_server_metadata()["token_endpoint"])
        if not refreshed.get("access_token") or refreshed.get("refresh_token") in (None, old_refresh_token):
            raise AssertionError(f"no new access token, or the refresh token did not rotate: {sorted(refreshed)}")
        passed("refresh through the session (refresh_token grant): new access token, rotated refresh token")
    except Exception as error:  # noqa: BLE001
        failed(f"{label}: authlib's refresh_token()", describe(error))
    return {"rp": rp, "token": token, "nonce": request["nonce"], "browser": browser}


def still_signed_in(rp: RelyingParty, browser: requests.Session) -> bool:
    """Whether `browser` gets a code with prompt=none (no page may be shown)."""
    request = rp.create_authorization_url(REDIRECT_URI, prompt="none")
    answer = browser.get(request["url"], timeout=TIMEOUT, allow_redirects=False)
    return "code=" in answer.headers.get("Location", "")


def rp_initiated_logout(flow: dict) -> None:
    """OpenID Connect RP-Initiated Logout as a relying party does it: the browser sent to
    the discovery document's end_session_endpoint with the ID token as id_token_hint, a
    post_logout_redirect_uri and a state (as openid-client's endSessionUrl builds it)."""
    step("RP-Initiated Logout at the end_session_endpoint")
    rp, browser, token = flow["rp"], flow["browser"], flow["token"]
    endpoint = rp.load_server_metadata()["end_session_endpoint"]
    if not still_signed_in(rp, browser):
        failed("before sign-out, prompt=none gets a code", "it did not")
        return
    asked = browser.get(endpoint, timeout=TIMEOUT, allow_redirects=False)
    if asked.status_code == 200 and "Sign out?" in asked.text and still_signed_in(rp, browser):
        passed("without id_token_hint: a page asks the user first, and nothing ends until they answer")
    else:
        failed("without id_token_hint the user is asked first", f"{asked.status_code} {asked.text[:200]}")
    query = {"id_token_hint": token["id_token"], "post_logout_redirect_uri": REDIRECT_URI, "state": "logout-state"}
    answer = browser.get(endpoint, params=query, timeout=TIMEOUT, allow_redirects=False)
    back = answer.headers.get("Location", "")
    if answer.status_code == 303 and back == f"{REDIRECT_URI}?state=logout-state":
        passed(f"GET {endpoint} with id_token_hint: 303 to the post_logout_redirect_uri with the state")
    else:
        failed("the end_session_endpoint signs out with id_token_hint", f"{answer.status_code} {back}")
    if still_signed_in(rp, browser):
        failed("after sign-out, prompt=none gets login_required", "it still got a code")
    else:
        passed("after sign-out, the same browser is signed out: prompt=none answers login_required")


def claims_options(rp: RelyingParty, audience: str) -> dict:
    """parse_id_token's default checks `iss`; this adds `aud` (the client itself)."""
    return {
        "iss": {"essential": True, "value": rp.load_server_metadata()["issuer"]},
        "aud": {"essential": True, "value": audience},
    }


def negative_checks(public: dict, confidential: dict) -> None:
    step("what authlib's own checks must refuse")
    rp, token, nonce = public["rp"], public["token"], public["nonce"]
    header, payload, signature = token["id_token"].split(".")
    # A character in the middle: the last one's low bits may be padding.
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    tampered = dict(token, id_token=f"{header}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1:]}")
    expect_refusal(
        "an ID token with a tampered signature fails parse_id_token's decode",
        BadSignatureError,
        None,
        lambda: rp.parse_id_token(tampered, nonce, claims_options=claims_options(rp, rp.client_id)),
    )
    expect_refusal(
        "the right ID token with another nonce fails CodeIDToken.validate",
        InvalidClaimError,
        "nonce",
        lambda: rp.parse_id_token(token, nonce + "-other", claims_options=claims_options(rp, rp.client_id)),
    )
    other = confidential["rp"]
    expect_refusal(
        f"{rp.client_id}'s ID token, presented to {other.client_id}, fails on aud",
        InvalidClaimError,
        "aud",
        lambda: other.parse_id_token(token, nonce, claims_options=claims_options(other, other.client_id)),
    )
    swapped = dict(token, access_token=confidential["token"]["access_token"])
    expect_refusal(
        "the ID token beside another client's access token fails on at_hash",
        InvalidClaimError,
        "at_hash",
        lambda: rp.parse_id_token(swapped, nonce, claims_options=claims_options(rp, rp.client_id)),
    )


def main() -> int:
    public_rp = relying_party(PUBLIC, None, "none")
    confidential_rp = relying_party(CONFIDENTIAL, CONFIDENTIAL_SECRET, "client_secret_basic")
    if check_discovery(public_rp) is None:
        return 1
    confidential_rp.load_server_metadata()
    public = code_flow("public", public_rp, "none")
    confidential = code_flow("confidential", confidential_rp, "client_secret_basic")
    if public and confidential:
        negative_checks(public, confidential)
        rp_initiated_logout(public)
    else:
        failed("the refusals are checked", "a code flow did not complete")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # noqa: BLE001
        failed("the relying party ran to the end", describe(error))
        traceback.print_exc()
        sys.exit(1)
