"""An MCP server written with the official Python SDK: the tenant's shop as the tests see it.

Run as `python shop_server.py PORT CALL_LOG`: streamable HTTP at http://127.0.0.1:PORT/mcp
(PORT 0 takes a free one, which uvicorn names on stderr), sessions on, answers as event
streams (the SDK's defaults). Every tool call is appended to
CALL_LOG as one JSON line (tool, arguments, the identity header), so a test can tell what ran.
"""

import asyncio
import json
import sys

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel

PORT = int(sys.argv[1])
CALL_LOG = sys.argv[2]

app = MCPServer("shop")


def record(tool: str, arguments: dict, ctx: Context) -> str | None:
    request = ctx.request_context.request
    customer = request.headers.get("x-customer-id") if request is not None else None
    with open(CALL_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps({"tool": tool, "arguments": arguments, "customer": customer}) + "\n")
    return customer


class Order(BaseModel):
    order_id: str
    status: str
    eta: str


@app.tool(annotations=ToolAnnotations(readOnlyHint=True))
def order_status(order_id: str, ctx: Context) -> Order:
    """Where an order is: its status and expected delivery day."""
    record("order_status", {"order_id": order_id}, ctx)
    if order_id == "0000":
        raise ValueError("no such order")
    return Order(order_id=order_id, status="shipped", eta="2026-12-09")


class Cancelled(BaseModel):
    order_id: str
    cancelled: bool


@app.tool()
def cancel_order(order_id: str, ctx: Context) -> Cancelled:
    """Cancels an order that has not shipped yet."""
    record("cancel_order", {"order_id": order_id}, ctx)
    return Cancelled(order_id=order_id, cancelled=True)


@app.tool(annotations=ToolAnnotations(readOnlyHint=True))
def my_orders(ctx: Context) -> str:
    """The orders of the signed-in customer."""
    customer = record("my_orders", {}, ctx)
    return f"orders of {customer}" if customer else "no customer"


@app.tool()
async def slow_report(seconds: float, ctx: Context) -> str:
    """Takes its time."""
    record("slow_report", {"seconds": seconds}, ctx)
    await asyncio.sleep(seconds)
    return "done"


app.run("streamable-http", host="127.0.0.1", port=PORT)
