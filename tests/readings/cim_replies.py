"""Read a CIM ResponseMessage the way a sender would: header, result and each error."""

from __future__ import annotations

from typing import Any

from defusedxml.ElementTree import fromstring


def _local(tag: str) -> str:
    return tag[tag.rfind("}") + 1 :]


def _children(element: Any) -> dict[str, Any]:
    return {_local(c.tag): c for c in element}


def read_reply(body: bytes) -> dict[str, Any]:
    """{'soap', 'root', 'header': {...}, 'result', 'errors': [{...}], 'ids': [...]} of a reply."""
    root = fromstring(body)
    soap = None
    if _local(root.tag) == "Envelope":
        soap = root.tag[1 : root.tag.index("}")]
        (body_element,) = [c for c in root if _local(c.tag) == "Body"]
        (root,) = list(body_element)
    parts = _children(root)
    header = {_local(c.tag): c.text for c in parts["Header"]}
    reply = parts["Reply"]
    errors = []
    for error in reply:
        if _local(error.tag) != "Error":
            continue
        fields = {_local(c.tag): c.text for c in error if _local(c.tag) != "object"}
        obj = _children(error).get("object")
        if obj is not None:
            fields["object"] = {_local(c.tag): c.text for c in obj}
        errors.append(fields)
    return {
        "soap": soap,
        "root": root.tag,
        "header": header,
        "result": _children(reply)["Result"].text,
        "errors": errors,
        "ids": [(c.get("idType"), c.text) for c in reply if _local(c.tag) == "ID"],
    }
