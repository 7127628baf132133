// Drives a fastmcp server with the official TypeScript SDK client and prints what it saw as
// one JSON object. Usage: node sdk_client.mjs URL [tool] [json-args]
// With only URL: lists tools and calls `calculate` (multiply 6 7).
// With a tool: calls it with the args, collecting progress and log notifications.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const [url, tool = "calculate", rawArgs] = process.argv.slice(2);
const args = rawArgs ? JSON.parse(rawArgs) : { operation: "multiply", a: 6, b: 7 };

const client = new Client({ name: "fastmcp-sdk-test", version: "1.0.0" });
const logs = [];
client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
const transport = new StreamableHTTPClientTransport(new URL(url));
const timer = setTimeout(() => {
  console.error("timed out");
  process.exit(3);
}, 20000);
try {
  await client.connect(transport);
  const listed = await client.listTools();
  const progress = [];
  const result = await client.callTool({ name: tool, arguments: args }, undefined, {
    onprogress: (p) => progress.push(p),
  });
  console.log(
    JSON.stringify({
      server: client.getServerVersion(),
      protocolVersion: transport.protocolVersion ?? null,
      sessionId: transport.sessionId ?? null,
      tools: listed.tools.map((t) => t.name),
      result,
      progress,
      logs,
    }),
  );
  await client.close();
} catch (e) {
  console.error(`client error: ${e?.stack ?? e}`);
  process.exitCode = 2;
} finally {
  clearTimeout(timer);
}
