"""Callback data of inline buttons: short opaque codes, built and parsed in one place.

callback_data comes from the client and is untrusted: `parse` accepts only known actions with
well-formed arguments and returns None for anything else. Ownership of the objects an
argument names is checked by the service that acts on it, never here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64
SEPARATOR = ":"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,24}$")

# Actions and the number of arguments each takes.
HOME = "home"
MENU = "menu"
LOGOUT = "logout"
LANGUAGE = "lang"
ACTIONS: dict[str, int] = {HOME: 0, MENU: 1, LOGOUT: 1, LANGUAGE: 1}

# Staff buttons in the admin group (issue 4): accept, refuse (asks the reason), a one-tap
# reason, cancel a refusal, open a request's card, confirm an announcement, revoke a link.
STAFF_ACCEPT = "sa"
STAFF_REFUSE = "sr"
STAFF_REASON = "sq"
STAFF_REFUSE_CANCEL = "sx"
STAFF_OPEN = "so"
STAFF_ANNOUNCE = "sn"
STAFF_LINK = "sl"
# Parents' Boîte de réception: an operation and a number (page or message id).
INBOX = "ib"
ACTIONS.update(
    {
        STAFF_ACCEPT: 1,
        STAFF_REFUSE: 1,
        STAFF_REASON: 2,
        STAFF_REFUSE_CANCEL: 1,
        STAFF_OPEN: 1,
        STAFF_ANNOUNCE: 2,
        STAFF_LINK: 2,
        INBOX: 2,
    }
)


# Planning (issue 3): month (child, YYYYMM; child 0 = all the children), day (child,
# YYYYMMDD), action (what, child, service, day), absence reason (reason, late consent, child,
# service, day), weekly pattern (children mask, weekdays mask, services mask), and buttons
# that only label.
PLANNING_MONTH = "pm"
PLANNING_DAY = "pd"
PLANNING_ACTION = "pa"
PLANNING_REASON = "pr"
PLANNING_PATTERN = "pp"
PLANNING_PATTERN_CONFIRM = "pv"
PLANNING_GROUP = "pg"  # for all the children: what, service, day, late consent
NOOP = "x"
ACTIONS.update(
    {
        PLANNING_MONTH: 2,
        PLANNING_DAY: 2,
        PLANNING_ACTION: 4,
        PLANNING_REASON: 5,
        PLANNING_PATTERN: 3,
        PLANNING_PATTERN_CONFIRM: 3,
        PLANNING_GROUP: 4,
        NOOP: 0,
    }
)

# Money (issue 6): relevé de compte of a school year (its first year, e.g. 2026), its invoices
# and payments, an invoice's PDF and online payment (invoice id), the attestation de frais de
# garde (calendar year), and the family's tariffs ("Tarifs en cours", for Mes enfants).
STATEMENT = "st"
STATEMENT_INVOICES = "sti"
STATEMENT_PAYMENTS = "stp"
INVOICE_PDF = "ivp"
INVOICE_PAY = "ivy"
ATTESTATION = "att"
TARIFFS = "tar"
ACTIONS.update(
    {
        STATEMENT: 1,
        STATEMENT_INVOICES: 1,
        STATEMENT_PAYMENTS: 1,
        INVOICE_PDF: 1,
        INVOICE_PAY: 1,
        ATTESTATION: 1,
        TARIFFS: 0,
    }
)


# Mon compte, Mes enfants, forms, Liste des demandes, Infos/Documents (issue 7). Forms carry
# their draft's token so a button of an older form cannot edit the current one.
ACCOUNT = "ma"  # block
FORM_START = "fs"  # form code, child id (0: none)
FORM_ENROL = "fe"  # child id, service id
FORM_FIELD = "ff"  # token, field index
FORM_CHOICE = "fc"  # token, field index, choice index
FORM_SEND = "fo"  # token: show the changes to confirm
FORM_CONFIRM = "fk"  # token: send the request
FORM_BACK = "fb"  # token: back to the form
FORM_CANCEL = "fx"  # token
CHILD = "kc"  # child id (0: the list)
CHILD_AUTHORIZATIONS = "ka"  # child id
CHILD_REMOVAL = "kr"  # child id, person id: confirm
CHILD_REMOVAL_CONFIRM = "kq"  # child id, person id
CHILD_HEALTH = "kh"  # child id
CHILD_ENROL = "ke"  # child id
REQUEST_LIST = "rl"  # filter, months
REQUEST_PAGE = "rp"  # filter, months, index of the first request shown
DOCUMENT = "dc"  # document id
REGISTRATION_FORM = "dp"  # child id (0: blank)
DOCUMENT_WITHDRAW = "dw"  # document id (staff)
MY_DATA = "md"
ACTIONS.update(
    {
        ACCOUNT: 1,
        FORM_START: 2,
        FORM_ENROL: 2,
        FORM_FIELD: 2,
        FORM_CHOICE: 3,
        FORM_SEND: 1,
        FORM_CONFIRM: 1,
        FORM_BACK: 1,
        FORM_CANCEL: 1,
        CHILD: 1,
        CHILD_AUTHORIZATIONS: 1,
        CHILD_REMOVAL: 2,
        CHILD_REMOVAL_CONFIRM: 2,
        CHILD_HEALTH: 1,
        CHILD_ENROL: 1,
        REQUEST_LIST: 2,
        REQUEST_PAGE: 3,
        DOCUMENT: 1,
        REGISTRATION_FORM: 1,
        DOCUMENT_WITHDRAW: 1,
        MY_DATA: 0,
    }
)

# A doctor's certificate for an absence request (request id).
PROOF = "pf"
ACTIONS[PROOF] = 1
# Switching a commune on (issue 12): confirm or cancel an import ("yes"/"no", draft token).
STAFF_IMPORT = "si"
ACTIONS[STAFF_IMPORT] = 2
# Reminder preferences (issue 5): kind, new state ("1" on, "0" off).
REMINDER_TOGGLE = "rt"
ACTIONS[REMINDER_TOGGLE] = 2
REMINDER_SERVICE_TOGGLE = "rs"  # booking reminders of one service: service id, 0/1
ACTIONS[REMINDER_SERVICE_TOGGLE] = 2
# Staff: the family meant among several of that name (token of the command waiting, N° famille);
# accept every pending request of a family (family id).
STAFF_PICK_FAMILY = "sf"
ACTIONS[STAFF_PICK_FAMILY] = 2
STAFF_ACCEPT_FAMILY = "sy"
ACTIONS[STAFF_ACCEPT_FAMILY] = 2  # "ask" or "yes", family id
# Staff confirm a payment that needs it, or a closure: "yes" or "no", token of the draft.
STAFF_PAYMENT = "sp"
ACTIONS[STAFF_PAYMENT] = 2
STAFF_CLOSURE = "sc"
ACTIONS[STAFF_CLOSURE] = 2

# Attendance (issue 14): a child's tap (session, child, page, mode "t" tick / "d" departure), a
# page or mode of the list (session, page, mode), "Tous présents" (session, page), the children
# to add (session, page), one added (session, child), closing ("ask"/"yes").
ATTENDANCE_TAP = "at"
ATTENDANCE_PAGE = "ap"
ATTENDANCE_ALL = "aa"
ATTENDANCE_ADD = "ad"
ATTENDANCE_ADD_CHILD = "ac"
ATTENDANCE_CLOSE = "ax"
ACTIONS.update(
    {
        ATTENDANCE_TAP: 4,
        ATTENDANCE_PAGE: 3,
        ATTENDANCE_ALL: 2,
        ATTENDANCE_ADD: 2,
        ATTENDANCE_ADD_CHILD: 2,
        ATTENDANCE_CLOSE: 2,
    }
)


@dataclass(frozen=True)
class Callback:
    """A parsed button press: an action and its string arguments."""

    action: str
    args: tuple[str, ...] = ()

    def arg(self, index: int) -> str:
        """The argument at `index`."""
        return self.args[index]

    def int_arg(self, index: int) -> int | None:
        """The argument at `index` as a positive integer, or None when it is not one."""
        value = self.args[index]
        return int(value) if value.isdigit() and len(value) <= 12 else None


def build(action: str, *args: object) -> str:
    """Encode a button's data; raises ValueError if it would be malformed or too long."""
    parts = [action, *(str(arg) for arg in args)]
    if action not in ACTIONS or len(args) != ACTIONS[action]:
        raise ValueError(f"unknown action or wrong arity: {action}")
    if not all(_TOKEN.match(part) for part in parts):
        raise ValueError(f"callback part not allowed: {parts}")
    data = SEPARATOR.join(parts)
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def parse(data: str | None) -> Callback | None:
    """Decode a button's data; None when it is not one of ours."""
    if not data or len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        return None
    action, *args = data.split(SEPARATOR)
    if ACTIONS.get(action) != len(args) or not all(_TOKEN.match(part) for part in (action, *args)):
        return None
    return Callback(action, tuple(args))


def pattern(action: str) -> re.Pattern[str]:
    """A CallbackQueryHandler pattern matching one action."""
    return re.compile(rf"^{re.escape(action)}(?:{SEPARATOR}|$)")
