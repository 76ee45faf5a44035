"""The ops service: proposed remediation actions and the people who approve or reject them."""
