"""Signing in to the console through the identity provider: OpenID Connect's authorization code
flow with PKCE (routes), the sign-in in progress kept in a sealed cookie (flow) and the provider
as its client sees it (provider)."""

from gateway.console.oidc.routes import router

__all__ = ["router"]
