"""How many failed sign-ins (password or second factor) a person and an address may have."""
from django.conf import settings


def sign_in_budgets(address: str, username: str) -> tuple[dict, ...]:
    """Per account from this address (tight: a guesser there is stopped soon), per account
    from anywhere (looser: a guesser rotating addresses cannot lock the person out for long
    cheaply, and still gets few guesses), per address (one address spraying accounts)."""
    limits, window, account = settings.BRANCHLINE, 15 * 60, username.lower()[:150]

    def budget(key, burst):
        return {"key": key, "rate": burst / window, "burst": burst}

    return (budget(f"signin:{address}:{account}", limits["SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS"]),
            budget(f"signin-account:{account}", limits["SIGN_IN_FAILURES_PER_ACCOUNT"]),
            budget(f"signin-address:{address}", limits["SIGN_IN_FAILURES_PER_ADDRESS"]))
