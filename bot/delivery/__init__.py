"""Delivery: the outbox worker that sends what storage queued, with retries (DESIGN §7)."""

from bot.delivery.lifecycle import WAKE_KEY, attach_worker, stop_worker, worker_of
from bot.delivery.pacing import FloodGate, Pacer, PausingRateLimiter
from bot.delivery.policy import DeliveryPolicy
from bot.delivery.worker import DeliveryWorker, Outcome

__all__ = [
    "WAKE_KEY",
    "DeliveryPolicy",
    "DeliveryWorker",
    "FloodGate",
    "Outcome",
    "Pacer",
    "PausingRateLimiter",
    "attach_worker",
    "stop_worker",
    "worker_of",
]
