"""`agents create|edit|submit|status|cancel|approve|reject|deploy|list|comment`."""

from __future__ import annotations

from pathlib import Path

from core import registry
from core.cli._output import add_json_flag, print_json, print_table
from core.cli._types import record_id
from core.config import get_settings
from core.db import session_scope
from core.errors import ValidationError
from core.models import AgentStatus, Source
from core.registry.validation import MAX_CODE_BYTES

STATUSES = [s.value for s in AgentStatus]


def register(subparsers) -> None:  # noqa: ANN001
    agents = subparsers.add_parser("agents", help="create agents and move them through approval")
    sub = agents.add_subparsers(dest="agents_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="register a new agent as a draft")
    create.add_argument("--owner", required=True, help="owner's email")
    _add_fields(create, required=True)
    add_json_flag(create)
    create.set_defaults(handler=_create)

    edit = sub.add_parser("edit", help="edit an agent's working copy")
    edit.add_argument("id", type=record_id)
    edit.add_argument("--actor", required=True)
    _add_fields(edit, required=False)
    add_json_flag(edit)
    edit.set_defaults(handler=_edit)

    submit = sub.add_parser("submit", help="submit a draft for approval")
    submit.add_argument("id", type=record_id)
    submit.add_argument("--actor", required=True)
    submit.add_argument("--notes", default="")
    add_json_flag(submit)
    submit.set_defaults(handler=_submit)

    status = sub.add_parser("status", help="an agent's status, history and comments")
    status.add_argument("id", type=record_id)
    add_json_flag(status)
    status.set_defaults(handler=_status)

    for action in ("cancel", "approve", "reject", "deploy"):
        p = sub.add_parser(action, help=f"{action} an agent")
        p.add_argument("id", type=record_id)
        p.add_argument("--actor", required=True)
        p.add_argument("--comment", default="")
        add_json_flag(p)
        p.set_defaults(handler=_decide, action=action)

    lst = sub.add_parser("list", help="list agents")
    lst.add_argument("--status", choices=STATUSES, action="append")
    lst.add_argument("--owner")
    add_json_flag(lst)
    lst.set_defaults(handler=_list)

    comment = sub.add_parser("comment", help="add a comment to an agent")
    comment.add_argument("id", type=record_id)
    comment.add_argument("--actor", required=True)
    comment.add_argument("--body", required=True)
    add_json_flag(comment)
    comment.set_defaults(handler=_comment)


def _add_fields(parser, *, required: bool) -> None:  # noqa: ANN001
    parser.add_argument("--name", required=required)
    parser.add_argument("--description", required=required)
    parser.add_argument("--model", required=required)
    parser.add_argument("--system-prompt")
    parser.add_argument("--tools", help="comma-separated tool names")
    parser.add_argument("--code-file", type=Path, help="file with the agent's generated code")


def _read_code(path: Path | None) -> tuple[bytes | None, str | None]:
    if path is None:
        return None, None
    if path.exists() and not path.is_file():
        raise ValidationError(f"cannot read code file {path}: not a regular file")
    try:
        with path.open("rb") as handle:  # one byte over the limit is enough to refuse it
            return handle.read(MAX_CODE_BYTES + 1), path.name
    except OSError as error:
        raise ValidationError(f"cannot read code file {path}: {error.strerror}") from None


def _create(args) -> int:  # noqa: ANN001
    code, filename = _read_code(args.code_file)
    with session_scope(write=True) as session:
        agent = registry.create_agent(
            session,
            owner_email=args.owner,
            name=args.name,
            description=args.description,
            model=args.model,
            system_prompt=args.system_prompt or "",
            tools=args.tools,
            code=code,
            code_filename=filename,
            source=Source.CLI,
        )
        data = registry.agent_summary(agent)
    print_json(data) if args.json else print(f"created agent {data['id']} ({data['status']})")
    return 0


def _edit(args) -> int:  # noqa: ANN001
    fields = {
        key: value
        for key, value in {
            "name": args.name,
            "description": args.description,
            "model": args.model,
            "system_prompt": args.system_prompt,
            "tools": args.tools,
        }.items()
        if value is not None
    }
    if args.code_file is not None:
        fields["code"], fields["code_filename"] = _read_code(args.code_file)
    if not fields:
        raise ValidationError("nothing to change; give at least one of --name, --description, …")
    with session_scope(write=True) as session:
        agent = registry.update_agent(
            session, agent_id=args.id, actor_email=args.actor, source=Source.CLI, **fields
        )
        data = registry.agent_summary(agent)
    print_json(data) if args.json else print(
        f"agent {data['id']} updated ({data['status']}, v{data['version']})"
    )
    return 0


def _submit(args) -> int:  # noqa: ANN001
    with session_scope(write=True) as session:
        registry.submit_agent(
            session, agent_id=args.id, actor_email=args.actor, source=Source.CLI, notes=args.notes
        )
    # Read back after the commit (the Jira issue is created in the background, by the outbox).
    with session_scope() as session:
        data = registry.agent_summary(registry.get_agent(session, agent_id=args.id))
    _print_move(args, data)
    return 0


_ACTIONS = {
    "cancel": registry.cancel_agent,
    "approve": registry.approve_agent,
    "reject": registry.reject_agent,
    "deploy": registry.deploy_agent,
}


def _decide(args) -> int:  # noqa: ANN001
    with session_scope(write=True) as session:
        agent = _ACTIONS[args.action](
            session,
            agent_id=args.id,
            actor_email=args.actor,
            source=Source.CLI,
            comment=args.comment,
        )
        data = registry.agent_summary(agent)
    _print_move(args, data)
    return 0


def _print_move(args, data: dict) -> None:  # noqa: ANN001
    if args.json:
        print_json(data)
        return
    line = f"agent {data['id']} is now {data['status']} (version {data['version']})"
    if data.get("jira_issue_url"):
        line += f" — {data['jira_issue_url']}"
    elif data["status"] == "pending" and get_settings().jira_enabled:
        line += " — Jira issue queued (sent in the background; `python -m core jira sync` now)"
    print(line)


def _status(args) -> int:  # noqa: ANN001
    with session_scope() as session:
        data = registry.agent_status(session, agent_id=args.id)
    if args.json:
        print_json(data)
        return 0
    print(f"#{data['id']} {data['name']} — {data['status']} (version {data['version']})")
    if data["jira_issue_key"]:
        print(f"Jira: {data['jira_issue_key']} {data['jira_issue_url'] or ''}".rstrip())
    if data.get("jira_issue_deleted"):
        print(f"Jira issue {data['jira_issue_deleted']} was deleted in Jira")
    if data["jira_sync"]["state"] != "none":
        print(f"Jira sync: {data['jira_sync']['detail']}")
    if data["approved_by"]:
        print(f"approved by {data['approved_by']} at {data['approved_at']}")
    print("history:")
    for h in data["history"]:
        note = f" — {h['comment']}" if h["comment"] else ""
        print(f"  {h['at']}  {h['from'] or '∅'} → {h['to']}  by {h['actor']} ({h['source']}){note}")
    if data["comments"]:
        print("comments:")
        for c in data["comments"]:
            deleted = " [deleted in Jira]" if c.get("deleted_at") else ""
            print(f"  {c['at']}  {c['author']} ({c['source']}){deleted}: {c['body']}")
    return 0


def _list(args) -> int:  # noqa: ANN001
    with session_scope() as session:
        rows = [
            registry.agent_summary(a)
            for a in registry.list_agents(session, statuses=args.status, owner_email=args.owner)
        ]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["id", "name", "status", "version", "owner", "model"])
    return 0


def _comment(args) -> int:  # noqa: ANN001
    with session_scope(write=True) as session:
        comment = registry.add_comment(
            session, agent_id=args.id, actor_email=args.actor, body=args.body, source=Source.CLI
        )
        data = {"id": comment.id, "author": comment.author, "body": comment.body}
    print_json(data) if args.json else print(f"comment {data['id']} added")
    return 0
