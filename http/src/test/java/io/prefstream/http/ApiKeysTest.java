package io.prefstream.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiKeysTest {

  @Test
  void mapsEachKeyToItsTenantAndNothingElse() {
    ApiKeys keys = ApiKeys.parse("a=key-a, b=key-b,a=key-a2", "test");

    assertThat(keys.tenantOf("key-a")).hasValue("a");
    assertThat(keys.tenantOf("key-a2")).hasValue("a");
    assertThat(keys.tenantOf("key-b")).hasValue("b");
    assertThat(keys.tenantOf("key-c")).isEmpty();
    assertThat(keys.tenantOf("")).isEmpty();
    assertThat(keys.tenants()).containsExactly("a", "b");
  }

  @Test
  void neverShowsAKey() {
    ApiKeys keys = ApiKeys.parse("a=super-secret", "test");

    assertThat(keys.toString()).doesNotContain("super-secret");
    assertThatThrownBy(() -> ApiKeys.parse("a=ok,justakey-secret", "test"))
        .hasMessageContaining("expected tenant=key")
        .hasMessageNotContaining("justakey-secret");
  }

  @Test
  void readsHashedKeysFromAFile(@TempDir Path dir) throws Exception {
    String digest = HexFormat.of().formatHex(ApiKeys.sha256("from-file"));
    Path file = dir.resolve("keys");
    Files.writeString(file, "# tenants\nt1=sha256:" + digest + "\nt2=plain\n");

    ApiKeys keys = ApiKeys.fromEnvironment(Map.of(ApiKeys.FILE_ENV, file.toString()));

    assertThat(keys.tenantOf("from-file")).hasValue("t1");
    assertThat(keys.tenantOf("plain")).hasValue("t2");
    assertThat(keys.tenantOf("sha256:" + digest)).isEmpty();
  }

  @Test
  void environmentVariableWinsAndTheLocalDefaultIsDemo() {
    assertThat(ApiKeys.fromEnvironment(Map.of(ApiKeys.ENV, "x=y")).tenantOf("y")).hasValue("x");
    ApiKeys local = ApiKeys.fromEnvironment(Map.of());
    assertThat(local.tenantOf("demo-key")).hasValue("demo");
    assertThat(local.isLocalDefault()).isTrue();
  }

  @Test
  void rejectsEmptyAndMalformedSpecs() {
    assertThatThrownBy(() -> ApiKeys.parse(" , ", "PREFSTREAM_API_KEYS"))
        .hasMessageContaining("no API keys in PREFSTREAM_API_KEYS");
    assertThatThrownBy(() -> ApiKeys.parse("a=sha256:abc", "f")).hasMessageContaining("64 hex");
  }

  @Test
  void anOperatorKeyReadsEveryTenantButIsNoTenant() {
    ApiKeys keys = ApiKeys.parse("a=key-a,*=ops-key", "test");

    assertThat(keys.callerOf("ops-key")).hasValue(Caller.OPERATOR);
    assertThat(keys.callerOf("key-a")).hasValue(Caller.tenant("a"));
    assertThat(keys.callerOf("nope")).isEmpty();
    assertThat(keys.tenantOf("ops-key")).isEmpty();
    assertThat(keys.tenants()).containsExactly("a");
    assertThat(keys.hasOperators()).isTrue();
    assertThat(keys.toString()).contains("operators").doesNotContain("ops-key");
    assertThat(Caller.OPERATOR.sees("a")).isTrue();
    assertThat(Caller.tenant("a").sees("a")).isTrue();
    assertThat(Caller.tenant("a").sees("b")).isFalse();
  }
}
