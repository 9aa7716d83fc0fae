"""Every listener, registered in one place."""

from slack_bolt import App

from . import actions, assistant, events


def register_listeners(app: App) -> None:
    assistant.register(app)  # first: its middleware takes assistant-thread messages before `message`
    events.register(app)
    actions.register(app)
