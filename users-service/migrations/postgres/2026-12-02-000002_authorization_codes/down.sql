DROP TABLE browser_sessions;
DROP TABLE authorization_codes;
