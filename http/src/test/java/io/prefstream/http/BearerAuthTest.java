package io.prefstream.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class BearerAuthTest {

  private final Function<String, Optional<String>> keys =
      key -> Optional.ofNullable(Map.of("k1", "acme").get(key));

  @Test
  void aKnownKeyIsItsTenantWhateverTheSchemesCaseAndSpaces() {
    assertThat(BearerAuth.tenantOf("Bearer k1", keys)).isEqualTo("acme");
    assertThat(BearerAuth.tenantOf("  bearer   k1 ", keys)).isEqualTo("acme");
  }

  @Test
  void eachRefusalIs401NamingTheHeaderAndWhatIsWrong() {
    for (var c :
        Map.of(
                "",
                "missing header 'Authorization: Bearer KEY'",
                "Basic a2V5",
                "expected the Bearer scheme: 'Bearer KEY'",
                "Bearer nope",
                "unknown API key")
            .entrySet()) {
      assertThatThrownBy(() -> BearerAuth.tenantOf(c.getKey(), keys))
          .isInstanceOfSatisfying(
              RequestError.class,
              e -> {
                assertThat(e.status()).isEqualTo(401);
                assertThat(e.error()).isEqualTo("unauthorized");
                assertThat(e.field()).isEqualTo("Authorization");
              })
          .hasMessage(c.getValue());
    }
    assertThatThrownBy(() -> BearerAuth.tenantOf(null, keys))
        .hasMessage("missing header 'Authorization: Bearer KEY'");
  }

  @Test
  void anOperatorKeyReadsButCannotActAsATenant() {
    ApiKeys both = ApiKeys.parse("acme=k1,*=ops", "test");

    assertThat(BearerAuth.callerOf("Bearer ops", both)).isEqualTo(Caller.OPERATOR);
    assertThat(BearerAuth.callerOf("Bearer k1", both)).isEqualTo(Caller.tenant("acme"));
    assertThat(BearerAuth.tenantOf("Bearer k1", both)).isEqualTo("acme");
    assertThatThrownBy(() -> BearerAuth.tenantOf("Bearer ops", both))
        .isInstanceOfSatisfying(
            RequestError.class,
            e -> {
              assertThat(e.status()).isEqualTo(403);
              assertThat(e.error()).isEqualTo("forbidden");
              assertThat(e.field()).isEqualTo("Authorization");
            })
        .hasMessageContaining("cannot act as a tenant");
    assertThatThrownBy(() -> BearerAuth.callerOf("Bearer nope", both))
        .hasMessage("unknown API key");
  }
}
