"""The console: pages, the JSON API, sign-in, the providers' webhooks and WeCom's callback, the codec endpoint."""
