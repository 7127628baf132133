// The TypeScript fastmcp peer for bench/run.sh and bench/io.sh: the seed's `calculate` tool
// (shared/seed/stateless-mode.md) and `io_wait {ms}` (an `async` tool that awaits a setTimeout
// promise and returns `waited N ms`, as the test plugin's and rmcp's), served stateless over
// httpStream with JSON responses.
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

server.addTool({
  name: "io_wait",
  description: "Waits ms milliseconds without holding a thread",
  parameters: z.object({
    ms: z.number().int().min(0),
  }),
  execute: async (args) => {
    await new Promise((resolve) => setTimeout(resolve, args.ms));
    return `waited ${args.ms} ms`;
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
