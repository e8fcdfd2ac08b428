"""What the tasks that open a pull or merge request (`rollout`, `traffic`) share: the code
host and the request's options, parsed at load, and proposing the change.

Not a task itself (the registry skips modules whose name starts with `_`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from iter8_action.tasks._fields import text_or_none
from iter8_action.tasks.base import TaskContext

if TYPE_CHECKING:
    from iter8_action.rollout.provider import Provider


@dataclass(frozen=True)
class ChangeInputs:
    """The code host (`platform`, `repository`, `tokenEnv`, `apiURL`) and the request's
    `targetBranch`, `draft`, `labels`, `reviewers` and `autoMerge`."""

    host: Mapping[str, Any]
    """The task's fields, read-only, as `rollout.change` reads the host and the request's
    decorations from them."""
    target_branch: str | None
    """None: the repository's default branch."""
    draft: bool

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> ChangeInputs:
        return cls(
            host=MappingProxyType(copy.deepcopy(dict(inputs))),
            target_branch=text_or_none(inputs.get("targetBranch")),
            draft=bool(inputs.get("draft")),
        )

    def provider(self, ctx: TaskContext, *, task: str) -> Provider:
        from iter8_action.rollout import change

        return change.make_provider(self.host, env=ctx.env, platform=ctx.platform, task=task)

    def target(self, provider: Provider) -> str:
        return self.target_branch or provider.default_branch()

    def propose(
        self,
        provider: Provider,
        ctx: TaskContext,
        *,
        branch: str,
        target: str,
        title: str,
        body: str,
        task: str,
    ) -> None:
        """Open the request from `branch` (or update the open one), then label it, ask for
        reviews and turn on auto-merge as the inputs say."""
        from iter8_action.rollout import change

        request = change.open_or_update(
            provider,
            ctx.log,
            branch=branch,
            target=target,
            title=title,
            body=body,
            draft=self.draft,
            task=task,
        )
        change.decorate(provider, ctx.log, request, self.host, task=task)
