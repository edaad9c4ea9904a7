import { request } from "node:http";

/**
 * POSTs `body` on a connection of its own (no keep-alive), resolving with the status: a server
 * that refuses a huge body closes the connection after answering, which would break the next
 * request of a pooled one.
 */
export function postOnce(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let status: number | undefined;
    const req = request(
      url,
      {
        method: "POST",
        agent: false,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          ...headers,
        },
      },
      (res) => {
        status = res.statusCode ?? 0;
        res.resume();
        res.on("end", () => resolve(status ?? 0));
      },
    );
    req.on("error", (error) => {
      if (status === undefined) reject(error);
    });
    req.end(body);
  });
}
