"""passage-identity 3.0.2 through its public API only, against whatever answers for auth.passage.id
and api.passage.id (the emulator, behind its intercepting proxy). Each step prints what the test
checks against the emulator's own state (tests/tests/sdk_python.rs; protocol in
tests/src/sdk_process.rs). Values and errors never carry a secret.

The JWKS goes through PyJWT's urllib, which follows HTTPS_PROXY and trusts SSL_CERT_FILE; the
generated Management client ignores the environment, so its default Configuration is given the
proxy and the CA before Passage(...) is built.
"""

import json
import os
import sys

from passageidentity import Passage
from passageidentity.models.magic_link_args import MagicLinkWithEmailArgs
from passageidentity.openapi_client import Configuration
from passageidentity.openapi_client.models import CreateUserArgs, UpdateUserArgs
from passageidentity.openapi_client.models.magic_link_type import MagicLinkType


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def describe(error):
    """What the test sees of an error the SDK raised."""
    return {
        "class": type(error).__name__,
        "message": str(error),
        "status": getattr(error, "status_code", None),
        "code": getattr(error, "error_code", None),
    }


def step(name, body):
    """Runs `body` as step `name` once the test said go; a raised error is the step's failure."""
    emit({"begin": name})
    if not sys.stdin.readline():
        sys.stderr.write(f"stdin closed before step {name}\n")
        sys.exit(2)
    try:
        emit({"step": name, "ok": True, "values": body() or {}})
    except Exception as error:  # noqa: BLE001 - every SDK failure is the step's result
        emit({"step": name, "ok": False, "error": describe(error)})


def required(name):
    value = os.environ.get(name)
    if not value:
        sys.stderr.write(f"{name} is not set\n")
        sys.exit(2)
    return value


def user_of(user):
    return {
        "id": user.id,
        "email": user.email,
        "status": user.status.value if hasattr(user.status, "value") else user.status,
        "webauthn": user.webauthn,
        "webauthn_devices": [device.id for device in user.webauthn_devices or []],
    }


def main():
    configuration = Configuration.get_default()
    configuration.proxy = required("HTTPS_PROXY")
    configuration.ssl_ca_cert = required("SSL_CERT_FILE")
    passage = Passage(required("PASSAGE_APP_ID"), required("PASSAGE_API_KEY"))
    token = required("SESSION_AUTH_TOKEN")
    session_user = required("SESSION_USER_ID")
    device_user = required("DEVICE_USER_ID")
    inactive_user = required("INACTIVE_USER_ID")
    doomed_user = required("DOOMED_USER_ID")
    state = {}

    step("validate_jwt", lambda: {"user_id": passage.auth.validate_jwt(token)})

    def tampered():
        header, claims, signature = token.split(".")
        flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
        return {"user_id": passage.auth.validate_jwt(".".join([header, claims, flipped]))}

    step("validate_tampered_jwt", tampered)

    def create():
        state["created"] = passage.user.create(CreateUserArgs(email="created@example.com"))
        return user_of(state["created"])

    step("create_user", create)
    step("get_user", lambda: user_of(passage.user.get(device_user)))
    step(
        "update_user",
        lambda: user_of(passage.user.update(state["created"].id, UpdateUserArgs(email="updated@example.com"))),
    )
    step("deactivate_user", lambda: user_of(passage.user.deactivate(state["created"].id)))
    step("activate_user", lambda: user_of(passage.user.activate(inactive_user)))

    def delete():
        passage.user.delete(doomed_user)
        return {"deleted": True}

    step("delete_user", delete)
    step("get_deleted_user", lambda: user_of(passage.user.get(doomed_user)))

    def list_devices():
        state["devices"] = passage.user.list_devices(device_user)
        return {
            "devices": [
                {"id": d.id, "cred_id": d.cred_id, "type": d.type.value if hasattr(d.type, "value") else d.type}
                for d in state["devices"]
            ]
        }

    step("list_devices", list_devices)

    def revoke_device():
        passage.user.revoke_device(device_user, state["devices"][0].id)
        return {"revoked": True}

    step("revoke_device", revoke_device)

    def revoke_refresh_tokens():
        passage.user.revoke_refresh_tokens(session_user)
        return {"revoked": True}

    step("revoke_refresh_tokens", revoke_refresh_tokens)

    def magic_link():
        link = passage.auth.create_magic_link(
            MagicLinkWithEmailArgs(email="session@example.com", link_type=MagicLinkType.LOGIN, send=True)
        )
        return {"id": link.id, "identifier": link.identifier, "user_id": link.user_id, "activated": link.activated}

    step("create_magic_link", magic_link)


if __name__ == "__main__":
    main()
