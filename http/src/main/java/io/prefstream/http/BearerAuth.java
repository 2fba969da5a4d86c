package io.prefstream.http;

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
    if (header == null || header.isBlank()) {
      throw unauthorized("missing header 'Authorization: Bearer KEY'");
    }
    String value = header.strip();
    if (!value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw unauthorized("expected the Bearer scheme: 'Bearer KEY'");
    }
    return tenantOfKey
        .apply(value.substring(7).strip())
        .orElseThrow(() -> unauthorized("unknown API key"));
  }

  private static RequestError unauthorized(String reason) {
    return new RequestError(401, "unauthorized", "Authorization", reason);
  }
}
