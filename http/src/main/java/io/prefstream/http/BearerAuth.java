package io.prefstream.http;

import io.javalin.http.Context;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** {@code Authorization: Bearer KEY} to a tenant, or a 401 that says what is wrong. */
public final class BearerAuth {

  private BearerAuth() {}

  /**
   * The tenant whose API key the header carries.
   *
   * @param tenantOfKey the tenant of a key (the service's API keys), empty for an unknown one
   * @throws RequestError 401 {@code unauthorized} naming the {@code Authorization} header
   */
  public static String tenantOf(String header, Function<String, Optional<String>> tenantOfKey) {
    return keyOf(header, tenantOfKey);
  }

  private static <T> T keyOf(String header, Function<String, Optional<T>> ofKey) {
    if (header == null || header.isBlank()) {
      throw unauthorized("missing header 'Authorization: Bearer KEY'");
    }
    String value = header.strip();
    if (!value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw unauthorized("expected the Bearer scheme: 'Bearer KEY'");
    }
    return ofKey
        .apply(value.substring(7).strip())
        .orElseThrow(() -> unauthorized("unknown API key"));
  }

  /**
   * The tenant whose API key the header carries, for a request that acts as that tenant (sends
   * feedback, scores).
   *
   * @throws RequestError 401 {@code unauthorized} for a missing or unknown key, 403 {@code
   *     forbidden} for an operator's key, which only reads
   */
  public static String tenantOf(String header, ApiKeys keys) {
    Caller caller = callerOf(header, keys);
    if (caller.operator()) {
      throw new RequestError(
          403,
          "forbidden",
          "Authorization",
          "an operator key reads every tenant's figures but cannot act as a tenant; use the"
              + " tenant's key");
    }
    return caller.tenant();
  }

  /**
   * Who the header's API key belongs to, for a request that reads figures.
   *
   * @throws RequestError 401 {@code unauthorized} naming the {@code Authorization} header
   */
  public static Caller callerOf(String header, ApiKeys keys) {
    return keyOf(header, key -> keys.callerOf(key));
  }

  /**
   * The request's one {@code Authorization} header, or null when it has none: two or more are
   * refused (401), as a proxy and this service could read different ones.
   */
  public static String header(Context ctx) {
    List<String> values = Collections.list(ctx.req().getHeaders("Authorization"));
    if (values.size() > 1) {
      throw unauthorized(values.size() + " Authorization headers; send exactly one");
    }
    return values.isEmpty() ? null : values.get(0);
  }

  private static RequestError unauthorized(String reason) {
    return new RequestError(401, "unauthorized", "Authorization", reason);
  }
}
