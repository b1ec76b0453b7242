"""An agent using Switchboard's MCP server through the official Python SDK's client.

Reads {"url", "key", "steps"} as JSON on stdin; each step is {"list_tools": true} or
{"call": name, "arguments": {...}}. Writes one JSON line for the session's start
({"initialized": {...}}) and one per step; a failure of the session itself (an HTTP error,
say) is written as {"exception": "..."} and ends the run.
"""

import json
import sys

import anyio
import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client


def emit(value):
    print(json.dumps(value), flush=True)


def describe(error):
    """The innermost errors of an exception group, or the error itself."""
    inner = getattr(error, "exceptions", None)
    if inner:
        return "; ".join(describe(e) for e in inner)
    return f"{type(error).__name__}: {error}"


async def run(plan):
    headers = {"Authorization": f"Bearer {plan['key']}"} if plan.get("key") else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as http:
        async with streamable_http_client(plan["url"], http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                started = await session.initialize()
                emit({
                    "initialized": {
                        "protocol_version": started.protocol_version,
                        "server": started.server_info.name,
                        "tools": started.capabilities.tools is not None,
                    }
                })
                for step in plan["steps"]:
                    if step.get("list_tools"):
                        listed = await session.list_tools()
                        emit({"tools": [t.model_dump(by_alias=True, exclude_none=True) for t in listed.tools]})
                        continue
                    try:
                        result = await session.call_tool(step["call"], step.get("arguments", {}))
                    except Exception as error:  # a protocol error, or a result failing its schema
                        emit({"call_failed": describe(error)})
                        continue
                    emit({
                        "is_error": bool(result.is_error),
                        "structured": result.structured_content,
                        "text": [c.text for c in result.content if getattr(c, "type", "") == "text"],
                    })


def main():
    plan = json.load(sys.stdin)
    try:
        anyio.run(run, plan)
    except BaseException as error:  # noqa: BLE001 - the test reads what went wrong
        emit({"exception": describe(error)})


if __name__ == "__main__":
    main()
