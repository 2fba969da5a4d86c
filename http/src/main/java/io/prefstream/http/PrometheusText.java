package io.prefstream.http;

import io.javalin.http.Handler;
import java.util.function.Supplier;

/** {@code GET /metrics}: a registry's scrape in Prometheus' text exposition format 0.0.4. */
public final class PrometheusText {

  /** The content type Prometheus' text format is served with. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private PrometheusText() {}

  /** A handler answering with {@code scrape} (e.g. {@code registry::scrape}) as it is now. */
  public static Handler handler(Supplier<String> scrape) {
    return ctx -> ctx.contentType(CONTENT_TYPE).result(scrape.get());
  }
}
