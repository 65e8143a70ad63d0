"""App push through Firebase Cloud Messaging (HTTP v1) with the official `firebase-admin` SDK."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import firebase_admin
import google.oauth2.credentials
from firebase_admin import credentials, exceptions, messaging
from requests.adapters import HTTPAdapter

from notifications.channels import InvalidDeviceToken, PermanentSendError, ProviderReceipt, RetryableSendError

_app_numbers = itertools.count(1)


class AccessTokenCredential(credentials.Base):  # type: ignore[misc]
    """A fixed OAuth2 access token (tests, or a token minted elsewhere): no network to refresh."""

    def __init__(self, access_token: str) -> None:
        super().__init__()
        self._access_token = access_token

    def get_credential(self) -> google.oauth2.credentials.Credentials:
        return google.oauth2.credentials.Credentials(token=self._access_token)


class FcmPush:
    """`PushSender` over FCM. `fcm_url` points the SDK at a stand-in in tests."""

    provider = "fcm"

    def __init__(
        self,
        project_id: str,
        *,
        service_account_file: str = "",
        access_token: str = "",
        fcm_url: str = "",
        timeout_seconds: float = 10.0,
    ) -> None:
        cred: Any
        if service_account_file:
            cred = credentials.Certificate(service_account_file)
        elif access_token:
            cred = AccessTokenCredential(access_token)
        else:
            raise ValueError("FCM needs a service account file or an access token")
        # A named app per sender, so several senders (tests, benchmark) can live in one process.
        self._app = firebase_admin.initialize_app(
            cred,
            {"projectId": project_id, "httpTimeout": timeout_seconds},
            name=f"cmdms-fcm-{next(_app_numbers)}",
        )
        service = messaging._get_messaging_service(self._app)
        if fcm_url:
            service._fcm_url = fcm_url
        # The SDK retries 500/503 four times with back-off inside one call; our outbox owns
        # retries (and falls back to SMS), so one call is one request.
        service._client.session.mount(service._fcm_url, HTTPAdapter(max_retries=0))
        self._service = service

    def send(self, token: str, title: str, body: str, data: dict[str, str]) -> ProviderReceipt:
        with warnings.catch_warnings():
            # 7.7 prefers `fid`, but what apps register with us are FCM registration tokens.
            warnings.simplefilter("ignore", DeprecationWarning)
            message = messaging.Message(
                token=token,
                notification=messaging.Notification(title=title, body=body),
                data={str(k): str(v) for k, v in data.items()},
            )
        try:
            name = self._service.send(message)
        except (messaging.UnregisteredError, messaging.SenderIdMismatchError) as exc:
            raise InvalidDeviceToken(str(exc), code="UNREGISTERED") from exc
        except exceptions.InvalidArgumentError as exc:
            raise InvalidDeviceToken(str(exc), code="INVALID_ARGUMENT") from exc
        except (
            exceptions.UnavailableError,
            exceptions.InternalError,
            exceptions.DeadlineExceededError,
            exceptions.ResourceExhaustedError,
            exceptions.UnknownError,
        ) as exc:
            raise RetryableSendError(str(exc), code=str(exc.code)) from exc
        except exceptions.FirebaseError as exc:
            raise PermanentSendError(str(exc), code=str(exc.code)) from exc
        return ProviderReceipt(self.provider, str(name), "sent")

    def close(self) -> None:
        firebase_admin.delete_app(self._app)
