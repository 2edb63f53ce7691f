"""Signed (SigV4) S3 requests for ../s3.sh: `ensure-bucket` and `selftest`.

Reads REKAM_S3_ENDPOINT, REKAM_S3_ACCESS_KEY, REKAM_S3_SECRET_KEY, REKAM_S3_BUCKET.
"""
import os
import sys
import time

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

ENDPOINT = os.environ["REKAM_S3_ENDPOINT"]
KEY = os.environ["REKAM_S3_ACCESS_KEY"]
SECRET = os.environ["REKAM_S3_SECRET_KEY"]
BUCKET = os.environ["REKAM_S3_BUCKET"]


def client(key=KEY, secret=SECRET):
    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


def err(e):
    return "HTTP %s %s" % (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code"))


def ensure_bucket(timeout=float(os.environ.get("REKAM_S3_BUCKET_TIMEOUT", "60"))):
    c = client()
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            c.head_bucket(Bucket=BUCKET)
            print("s3: bucket %s is there" % BUCKET)
            return 0
        except ClientError as e:
            last = err(e)
            if e.response["Error"].get("Code") in ("SignatureDoesNotMatch", "InvalidAccessKeyId"):
                break  # credentials mismatch: retrying will not help
        except EndpointConnectionError as e:
            last = str(e)
        try:
            c.create_bucket(Bucket=BUCKET)
            print("s3: created bucket %s" % BUCKET)
            return 0
        except ClientError as e:
            code = e.response["Error"].get("Code")
            if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                return 0
            last = err(e)
        except EndpointConnectionError as e:
            last = str(e)
        time.sleep(0.5)
    print("s3: could not create bucket %s: %s" % (BUCKET, last), file=sys.stderr)
    return 1


def selftest():
    c = client()
    data = os.urandom(300 * 1024)
    key = "selftest/%d" % os.getpid()
    c.put_object(Bucket=BUCKET, Key=key, Body=data)
    got = c.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    if got != data:
        print("s3 selftest: GET returned %d bytes, not the %d PUT" % (len(got), len(data)), file=sys.stderr)
        return 1
    print("s3 selftest: signed PUT+GET of %d bytes OK" % len(data))
    try:
        client(secret=SECRET + "-wrong").get_object(Bucket=BUCKET, Key=key)
        print("s3 selftest: a wrong secret was ACCEPTED", file=sys.stderr)
        return 1
    except ClientError as e:
        code = e.response["Error"].get("Code")
        print("s3 selftest: wrong secret -> %s (%s)" % (err(e), e.response["Error"].get("Message")))
        if code != "SignatureDoesNotMatch":
            return 1
    c.delete_object(Bucket=BUCKET, Key=key)
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "ensure-bucket":
        sys.exit(ensure_bucket())
    if cmd == "selftest":
        sys.exit(selftest())
    print("usage: s3_client.py ensure-bucket|selftest", file=sys.stderr)
    sys.exit(2)
