"""The seed article's posts-service: the design this repository replaces. Do not copy it.

scripts/bench.sh runs it under gunicorn next to our posts-service, on the same users-service
and the same posts database, and measures its GET /posts?limit=20 as the "seed page"
scenario. It is faithfully naive, because that is what is being measured:

- every request downloads users-service's public key again (GET /public-key);
- every post on a page costs one more call to users-service (GET /users/{id}): N+1.

Environment:
  USERS_URL     users-service, e.g. http://127.0.0.1:18281
  JWT_ISSUER    the tokens' expected iss (default: USERS_URL)
  DATABASE_URL  posts-service's database: a SQLite file (opened read-only) or a
                postgres:// URL
"""
import os
import sqlite3

import jwt
import requests
from flask import Flask, jsonify, request

USERS_URL = os.environ["USERS_URL"].rstrip("/")
JWT_ISSUER = os.environ.get("JWT_ISSUER", USERS_URL)
DATABASE_URL = os.environ["DATABASE_URL"]
POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))

app = Flask(__name__)
# gunicorn imports this module in each (single-threaded) sync worker: one of each per worker.
http = requests.Session()
_db = None


def db():
    """One connection per worker, opened on first use (kinder to the seed than one per request)."""
    global _db
    if _db is None:
        if POSTGRES:
            import psycopg

            _db = psycopg.connect(DATABASE_URL, autocommit=True)
        else:
            _db = sqlite3.connect(f"file:{DATABASE_URL}?mode=ro", uri=True)
    return _db


def rfc3339(value):
    """A TIMESTAMP column (a datetime from psycopg, text from SQLite) as UTC RFC 3339."""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value).replace(" ", "T")
    return text + "Z"


@app.get("/health/live")
def live():
    return {"status": "ok"}


@app.get("/posts")
def list_posts():
    # The seed: fetch the key on every request, then verify the token with it.
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return jsonify(error="missing bearer token"), 401
    try:
        public_key = http.get(f"{USERS_URL}/public-key", timeout=5).text
        jwt.decode(header[7:], public_key, algorithms=["RS256"], audience="posts-service", issuer=JWT_ISSUER)
    except (jwt.PyJWTError, requests.RequestException, ValueError) as e:
        return jsonify(error=f"invalid token: {e}"), 401

    limit = min(max(request.args.get("limit", 20, type=int), 1), 100)
    placeholder = "%s" if POSTGRES else "?"
    rows = db().execute(
        "SELECT id, title, content, user_id, created_at, updated_at FROM posts "
        f"ORDER BY id DESC LIMIT {placeholder}",
        (limit,),
    ).fetchall()

    posts = []
    for id_, title, content, user_id, created_at, updated_at in rows:
        # The seed: one users-service call per post, with the caller's token.
        author = None
        try:
            response = http.get(f"{USERS_URL}/users/{user_id}", headers={"Authorization": header}, timeout=5)
            if response.ok:
                user = response.json()
                author = {"id": user["id"], "username": user["username"]}
        except (requests.RequestException, ValueError, KeyError):
            pass
        posts.append({
            "id": id_,
            "title": title,
            "content": content,
            "user_id": user_id,
            "created_at": rfc3339(created_at),
            "updated_at": rfc3339(updated_at),
            "author": author,
        })
    return jsonify(posts=posts, next_cursor=None)
