"""The web chat: a second door to the same bot for people without Telegram (issue 17).

What a web person does becomes a Telegram-shaped update fed to the same Application
(`updates`); what the bot sends to a web chat is routed here by a request class instead of
to Telegram (`request`), kept sealed so a reconnecting page replays it (`channel`), and
pushed to the page as Server-Sent Events by an aiohttp server (`server`, `limits`, the
page in `static/`). Web chats have their own chat ids (`ids`).
"""
