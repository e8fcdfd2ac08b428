"""What the tasks that open a pull or merge request (`rollout`, `traffic`) share: the code
host and the request's options, parsed at load, and proposing the change.

Not a task itself (the registry skips modules whose name starts with `_`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from iter8_action.core.errors import InputsInvalid
from iter8_action.platforms import CIHost
from iter8_action.rollout.provider import CodeHost, RequestOptions, repository_problem
from iter8_action.tasks._fields import text_or_none
from iter8_action.tasks.base import TaskContext

if TYPE_CHECKING:
    from iter8_action.rollout.provider import Provider


@dataclass(frozen=True)
class ChangeInputs:
    """The code host (`platform`, `repository`, `apiURL`, `tokenEnv`) and the request's
    options (`targetBranch`, `draft`, `labels`, `reviewers`, `autoMerge`)."""

    host: CodeHost
    request: RequestOptions

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> ChangeInputs:
        """`inputs`' code host and request; a `repository` that no host could name is
        refused at its field."""
        platform = CIHost(inputs["platform"]) if inputs.get("platform") else None
        repository = text_or_none(inputs.get("repository"))
        if repository is not None:
            problem = repository_problem(repository, platform)
            if problem is not None:
                raise InputsInvalid(problem, field=("repository",))
        host = CodeHost(
            platform=platform,
            repository=repository,
            api_url=text_or_none(inputs.get("apiURL")),
            token_env=text_or_none(inputs.get("tokenEnv")),
        )
        request = RequestOptions(
            target_branch=text_or_none(inputs.get("targetBranch")),
            draft=bool(inputs.get("draft")),
            labels=tuple(str(x) for x in inputs.get("labels") or ()),
            reviewers=tuple(str(x) for x in inputs.get("reviewers") or ()),
            auto_merge=bool(inputs.get("autoMerge")),
        )
        return cls(host=host, request=request)

    def provider(self, ctx: TaskContext, *, task: str) -> Provider:
        from iter8_action.rollout import change

        return change.make_provider(self.host, env=ctx.env, platform=ctx.platform, task=task)

    def target(self, provider: Provider) -> str:
        return self.request.target_branch or provider.default_branch()

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
            draft=self.request.draft,
            task=task,
        )
        change.decorate(provider, ctx.log, request, self.request, task=task)
