package io.prefstream.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.prefstream.schemas.JsonForm;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.slf4j.Logger;

/** Errors as JSON, and the answers every service gives to what none of its routes takes. */
public final class HttpErrors {

  /** Set on a request once it is answered with an error, so a later 404 handler leaves it be. */
  private static final String ANSWERED = "prefstream.answered";

  private HttpErrors() {}

  /** Answers {@code e}: its status, {@code {error, field, reason}}, Retry-After when it has one. */
  public static void answer(Context ctx, RequestError e) {
    ctx.attribute(ANSWERED, true);
    ObjectNode body = JsonForm.mapper().createObjectNode();
    body.put("error", e.error());
    if (e.field() != null) {
      body.put("field", e.field());
    }
    body.put("reason", e.getMessage());
    if (e.retryAfterSeconds() > 0) {
      ctx.header("Retry-After", Long.toString(e.retryAfterSeconds()));
    }
    ctx.status(e.status()).contentType("application/json").result(json(body));
  }

  /** {@code body} as JSON bytes. */
  public static byte[] json(Object body) {
    try {
      return JsonForm.mapper().writeValueAsBytes(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Installs the JSON answers (and Javalin's 405 routing) for a path no route has ({@code 404
   * not_found}, unless a handler already answered a 404 of its own), a method a path does not take
   * ({@code 405 method_not_allowed}) and an unexpected exception ({@code 500 internal}, logged with
   * the request, the body pointing at {@code service}'s log); Jetty's own refusals (headers too
   * large, a malformed request line) come as {@code {error, reason}} JSON too.
   */
  public static void install(JavalinConfig cfg, String service, Logger log) {
    cfg.http.prefer405over404 = true; // a known path with another method is 405, not 404
    // What Jetty refuses before a route sees it (431, a malformed request, 414) as JSON too.
    cfg.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
    cfg.routes.exception(
        Exception.class,
        (e, ctx) -> {
          log.error("{}: unexpected error on {} {}", service, ctx.method(), ctx.path(), e);
          answer(
              ctx,
              new RequestError(
                  500, "internal", null, "unexpected error; see the " + service + " log"));
        });
    cfg.routes.error(
        404,
        "*",
        ctx -> {
          if (ctx.attribute(ANSWERED) == null) {
            answer(ctx, new RequestError(404, "not_found", null, "no such path: " + ctx.path()));
          }
        });
    cfg.routes.error(
        405,
        "*",
        ctx ->
            answer(
                ctx,
                new RequestError(
                    405,
                    "method_not_allowed",
                    null,
                    ctx.method() + " is not allowed on " + ctx.path())));
  }
}
