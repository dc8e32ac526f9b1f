"""X-Hub-Signature verification."""

from core.jira.signature import sign, verify

BODY = b'{"webhookEvent":"jira:issue_updated"}'


def test_valid_signature():
    assert verify("s3cret", BODY, sign("s3cret", BODY))


def test_uppercase_method_and_hex_accepted():
    header = sign("s3cret", BODY)
    assert verify("s3cret", BODY, "SHA256=" + header.split("=", 1)[1].upper())


def test_tampered_body_wrong_secret_missing_and_unknown_method_fail():
    header = sign("s3cret", BODY)
    assert not verify("s3cret", BODY + b" ", header)
    assert not verify("other", BODY, header)
    assert not verify("s3cret", BODY, None)
    assert not verify("s3cret", BODY, "")
    assert not verify("s3cret", BODY, "md5=" + header.split("=", 1)[1])
    assert not verify("s3cret", BODY, "sha256")
    assert not verify("", BODY, header)
