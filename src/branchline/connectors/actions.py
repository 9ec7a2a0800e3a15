"""Writes to channels."""
from .models import Channel, ChannelKind


def channel_web() -> Channel:
    """The web widget's channel, made on first use (a fresh install needs no setup step)."""
    channel, _created = Channel.objects.get_or_create(kind=ChannelKind.WEB, defaults={"name": "Web chat"})
    return channel
