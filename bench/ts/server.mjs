// The TypeScript fastmcp peer for bench/run.sh: the seed's `calculate` tool
// (shared/seed/stateless-mode.md), served stateless over httpStream with JSON responses.
// Usage: node server.mjs PORT   (listens on 127.0.0.1 only)
import { FastMCP } from "fastmcp";
import { z } from "zod";

const port = Number(process.argv[2] || process.env.PORT) || 8080;

const server = new FastMCP({
  name: "Serverless MCP",
  version: "1.0.0",
});

server.addTool({
  name: "calculate",
  description: "Perform a calculation",
  parameters: z.object({
    operation: z.enum(["add", "subtract", "multiply", "divide"]),
    a: z.number(),
    b: z.number(),
  }),
  execute: async (args) => {
    const operations = {
      add: args.a + args.b,
      subtract: args.a - args.b,
      multiply: args.a * args.b,
      divide: args.a / args.b,
    };
    return `Result: ${operations[args.operation]}`;
  },
});

server.start({
  transportType: "httpStream",
  httpStream: {
    host: "127.0.0.1",
    port,
    stateless: true,
    enableJsonResponse: true,
  },
});
