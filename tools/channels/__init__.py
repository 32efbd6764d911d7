"""Notification channels: webhook (signed JSON), Slack incoming webhook (Block Kit) and e-mail over SMTP.

Adapters like the cloud providers: one shape (`send(notice)`), typed configuration, typed errors that say
whether a retry may help. Retries, de-duplication and the delivery log are the notifier's
(`graphs.notifier`); which events reach which channel is the channel's subscription.
"""
