"""How each staff command is written: the one home of the usage lines.

Every msgid is marked with `N_()` where it is defined, so babel extracts it and the French
admin group reads French; `usage(command)` translates it in the current language. A usage
kept in a constant and passed later to `_()` is never extracted: add it here instead.
(tests/conversations/staff/test_usages.py renders every staff command's usage in French.)
"""

from __future__ import annotations

from bot.i18n import N_, _

USAGES: dict[str, str] = {
    "message": N_(
        "Usage: /message FAMILY_NUMBER text\nExample: /message 1001001818331 The bus leaves at 8:00."
    ),
    "annonce": N_("Usage: /annonce text of the announcement (it may span several lines)."),
    "invite": N_("Usage: /invite FAMILY_NUMBER\nExample: /invite 1001001818331"),
    "fermeture": N_(
        "Usage: /fermeture DATE [service] reason\n"
        "Example: /fermeture 24/11/2026 cantine Staff strike\n"
        "Without a service, the whole structure is closed. Services: {services}"
    ),
    "reouvrir": N_(
        "Usage: /reouvrir DATE [service]\n"
        "Example: /reouvrir 24/11/2026 cantine\n"
        "Reopens a closed day and restores what the closure cancelled. Services: {services}"
    ),
    "effectifs": N_(
        "Usage: /effectifs [DATE]\nExample: /effectifs 24/11/2026 (tomorrow by default)"
    ),
    "famille": N_("Usage: /famille FAMILY_NUMBER\nExample: /famille 1001001818331"),
    "historique": N_(
        "Usage: /historique FAMILY_NUMBER DATE\nExample: /historique 1001001818331 24/11/2026"
    ),
    "vacances": N_(
        "Usage: /vacances START END OPENS CLOSES\n"
        "Example: /vacances 19/12/2026 03/01/2027 23/11/2026 12/12/2026\n"
        "(the holidays from START to END may be booked from OPENS to CLOSES, both included)"
    ),
    "garde": N_(
        "Usage: /garde FAMILY_NUMBER FIRST_NAME MODE\n"
        "MODE: complète (every week), impaire or paire (odd or even weeks), or a date (that week and every other week from it).\n"
        "Example: /garde 1001001818331 LUCAS 30/11/2026"
    ),
    "facturer": N_("Usage: /facturer YYYY-MM (for example /facturer 2026-10)."),
    "paiement": N_(
        "Usage: /paiement FAMILY_NUMBER AMOUNT METHOD [INVOICE_NUMBER]\n"
        "Methods: chèque, espèces, CESU, prélèvement, carte, titre émis.\n"
        "Example: /paiement 1001001818331 120,60 chèque AL-36"
    ),
    "annuler_paiement": N_(
        "Usage: /annuler_paiement PAYMENT_NUMBER\nExample: /annuler_paiement AL-12"
    ),
    "pointage": N_(
        "Usage: /pointage [service] [DATE]\n"
        "Example: /pointage garderie_soir 26/11/2026 (by default: the service running now, today)"
    ),
    "contrat": N_(
        "Usage: /contrat FAMILY_NUMBER FIRST_NAME SERVICE DAYS\n"
        "Example: /contrat 1001001818331 LUCAS garderie_matin lun,mar,jeu (aucun: no contract)"
    ),
}


def usage(command: str, **values: str) -> str:
    """The usage line of a staff command, in the current language (placeholders filled)."""
    text = _(USAGES[command])
    return text.format(**values) if values else text
