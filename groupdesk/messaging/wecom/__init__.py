"""Staff on WeCom (企业微信): the app's settings, its API and shared token, the approval card, and its callbacks."""
