"""Per-contact draws for the stages (bot, approval, transfer, repeat), made at arrival from named streams.

Drawing everything a contact may need when it arrives, each quantity from its own stream, keeps two policies on
the same seed in step (common random numbers): a policy that sends more contacts to a bot does not shift the
approval amounts of later contacts.
"""

from __future__ import annotations

import math

import numpy as np

from sim.arrivals import ArrivalBatch
from sim.config import Scenario
from sim.entities import ContactDraws
from sim.streams import Streams

__all__ = ["StageDraws"]


class StageDraws:
    """Draws :class:`~sim.entities.ContactDraws` for arriving and repeat contacts.

    Args:
        scenario: The validated scenario.
        streams: Named random streams of this replication.
        transfer: Per intent code, ``(share, target intent code)`` of its transfers, or ``None``.
    """

    def __init__(self, scenario: Scenario, streams: Streams, transfer: list[tuple[float, int] | None]) -> None:
        sc = self.scenario = scenario
        self._streams = streams
        self.channels = list(sc.channels)
        self.intents = list(sc.intents)
        self._bots = [sc.bots.get(c) for c in self.channels]
        self._approvals = bool(sc.approvals)
        self._transfer = transfer
        self.handle = [[sc.intents[i].handle_for(c) for i in self.intents] for c in self.channels]
        """Handle-time distribution per channel x intent code."""
        self.patience = [[sc.patience_for(c, i) for i in self.intents] for c in self.channels]
        """Patience distribution per channel x intent code."""
        amount = [sc.approvals.get(i) for i in self.intents]
        self._appr_share = np.array([a.share if a else 0.0 for a in amount])
        sigma2 = np.array([math.log1p(a.amount_cv**2) if a else 0.0 for a in amount])
        self._appr_mu = np.array([math.log(a.amount_mean) if a else 0.0 for a in amount]) - sigma2 / 2.0
        self._appr_sigma = np.sqrt(sigma2)

    def batch(self, batch: ArrivalBatch) -> list[ContactDraws]:
        """The draws of every contact of an arrival batch, in batch order (one stream per quantity)."""
        n = len(batch)
        get = self._streams.get
        sc = self.scenario
        session, ret_delay = np.zeros(n), np.zeros(n)
        for ci, bot in enumerate(self._bots):
            m = batch.channel == ci
            k = int(m.sum()) if bot is not None else 0
            if bot is not None and k:
                session[m] = bot.session.sample(get(f"bot/session/{self.channels[ci]}"), k)
                ret_delay[m] = bot.return_delay.sample(get(f"bot/return_delay/{self.channels[ci]}"), k)
        amount, tl = np.zeros(n), np.zeros(n)
        if self._approvals:
            need = get("approval/need").random(n)
            z = get("approval/amount").standard_normal(n)
            i = batch.intent
            amount = np.where(need < self._appr_share[i], np.exp(self._appr_mu[i] + self._appr_sigma[i] * z), 0.0)
            tl = sc.team_leads.handle.sample(get("approval/team_lead"), n)
        t_u, t_handle, t_patience = np.ones(n), np.zeros(n), np.zeros(n)
        if sc.transfers:
            t_u = get("transfer/need").random(n)
            to = np.array([t[1] if t is not None else -1 for t in self._transfer])[batch.intent]
            for ci in range(len(self.channels)):
                for ti in np.unique(to[(batch.channel == ci) & (to >= 0)]):
                    m = (batch.channel == ci) & (to == ti)
                    k = int(m.sum())
                    name = f"{self.channels[ci]}/{self.intents[ti]}"
                    t_handle[m] = self.handle[ci][ti].sample(get(f"transfer/handle/{name}"), k)
                    t_patience[m] = self.patience[ci][ti].sample(get(f"transfer/patience/{name}"), k)
        return list(
            map(
                ContactDraws._make,
                zip(
                    get("bot/outcome").random(n).tolist(),
                    session.tolist(),
                    amount.tolist(),
                    tl.tolist(),
                    get("back_office/recontact").random(n).tolist(),
                    sc.back_office.recontact_delay.sample(get("back_office/recontact_delay"), n).tolist(),
                    get("bot/return").random(n).tolist(),
                    ret_delay.tolist(),
                    sc.back_office.delay.sample(get("back_office/delay"), n).tolist(),
                    t_u.tolist(),
                    t_handle.tolist(),
                    t_patience.tolist(),
                    get("repeat/seed").integers(0, 1 << 62, n).tolist(),
                    strict=True,
                ),
            )
        )

    def repeat(self, channel: int, intent: int, amount: float, seed: int) -> tuple[float, float, ContactDraws]:
        """Handle time, patience (seconds) and the stage draws of a repeat contact.

        They come from a generator seeded by a number drawn at the predecessor's arrival, so a customer who comes
        back under two policies comes back with the same needs, whatever other repeats happened in between.
        """
        rng = np.random.default_rng(seed)
        handle = float(self.handle[channel][intent].sample(rng, 1)[0])
        patience = float(self.patience[channel][intent].sample(rng, 1)[0])
        sc = self.scenario
        bot = self._bots[channel]
        session = float(bot.session.sample(rng, 1)[0]) if bot is not None else 0.0
        ret_delay = float(bot.return_delay.sample(rng, 1)[0]) if bot is not None else 0.0
        tl = float(sc.team_leads.handle.sample(rng, 1)[0]) if self._approvals else 0.0
        rec_delay = float(sc.back_office.recontact_delay.sample(rng, 1)[0])
        bo_delay = float(sc.back_office.delay.sample(rng, 1)[0])
        t_u, t_handle, t_patience = 1.0, 0.0, 0.0
        transfer = self._transfer[intent]
        if transfer is not None:
            t_u = rng.random()
            t_handle = float(self.handle[channel][transfer[1]].sample(rng, 1)[0])
            t_patience = float(self.patience[channel][transfer[1]].sample(rng, 1)[0])
        draws = ContactDraws(
            rng.random(), session, amount, tl, rng.random(), rec_delay, rng.random(), ret_delay, bo_delay,
            t_u, t_handle, t_patience, int(rng.integers(0, 1 << 62)),
        )  # fmt: skip
        return handle, patience, draws
