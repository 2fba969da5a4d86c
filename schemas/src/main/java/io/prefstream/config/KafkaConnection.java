package io.prefstream.config;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.SslAuthenticationException;

/**
 * Who a Kafka client configuration connects as, and a check at start that the cluster takes it: a
 * service configured with {@code kafka.security.protocol}, {@code kafka.sasl.*} and {@code
 * kafka.ssl.*} keys (passed through to every client it makes) fails at once, naming the principal,
 * when the credentials or the truststore are wrong, rather than retrying in the background while it
 * says it is healthy.
 */
public final class KafkaConnection {

  private static final Pattern USERNAME = Pattern.compile("username\\s*=\\s*\"([^\"]*)\"");

  /** How long a service waits at start for the cluster to answer its first request. */
  public static final Duration AT_START = Duration.ofSeconds(30);

  private KafkaConnection() {}

  /**
   * The client's security in words: {@code Kafka at HOST:PORT as principal 'alice' (SASL_SSL,
   * SCRAM-SHA-512)}, or {@code Kafka at HOST:PORT (PLAINTEXT)}. Never includes a secret.
   */
  public static String describe(Map<String, ?> client) {
    String protocol = string(client, CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "PLAINTEXT");
    StringBuilder s =
        new StringBuilder("Kafka at ")
            .append(string(client, CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "?"));
    String principal = principal(client);
    if (principal != null) {
      s.append(" as principal '").append(principal).append('\'');
    }
    s.append(" (").append(protocol);
    if (protocol.startsWith("SASL")) {
      s.append(", ").append(string(client, SaslConfigs.SASL_MECHANISM, "GSSAPI"));
    }
    return s.append(')').toString();
  }

  /**
   * The user name a SASL login module is given ({@code username="..."} in {@code
   * sasl.jaas.config}), or for a client certificate, the keystore it comes from; null when the
   * client does not authenticate.
   */
  public static String principal(Map<String, ?> client) {
    String protocol = string(client, CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "PLAINTEXT");
    if (protocol.startsWith("SASL")) {
      Matcher m = USERNAME.matcher(string(client, SaslConfigs.SASL_JAAS_CONFIG, ""));
      return m.find() ? m.group(1) : "(from sasl.jaas.config)";
    }
    String keystore = string(client, SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, null);
    return protocol.equals("SSL") && keystore != null ? "certificate in " + keystore : null;
  }

  /**
   * Connects with {@code client} (every key a Kafka client takes, {@code bootstrap.servers} among
   * them) and asks the cluster its id.
   *
   * @throws IllegalStateException saying, by {@link #explain}, why it could not: credentials
   *     refused (naming the principal), TLS handshake failed, settings rejected, or no answer
   *     within {@code timeout}
   */
  public static void check(Map<String, ?> client, Duration timeout) {
    Map<String, Object> config = new HashMap<>(client);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    config.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "prefstream-preflight");
    Admin admin;
    try {
      admin = Admin.create(config);
    } catch (KafkaException e) {
      throw new IllegalStateException(explain(client, e), e);
    }
    try {
      admin.describeCluster().clusterId().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException(explain(client, e.getCause()), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "no answer from " + describe(client) + " within " + timeout.toSeconds() + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while connecting to " + describe(client), e);
    } finally {
      admin.close(Duration.ZERO);
    }
  }

  /**
   * {@link #check} at a service's start: the client settings ({@code kafka.*}, prefix removed) with
   * {@code bootstrap}, allowed {@link #AT_START}.
   *
   * @throws io.prefstream.service.ServiceException {@code service}: why the cluster was not reached
   */
  public static void requireAtStart(String service, String bootstrap, Map<String, ?> kafka) {
    try {
      check(client(bootstrap, kafka), AT_START);
    } catch (IllegalStateException e) {
      throw new io.prefstream.service.ServiceException(service + ": " + e.getMessage(), e);
    }
  }

  /**
   * A client configuration: the pass-through {@code kafka} keys with {@code bootstrap} over them.
   */
  public static Map<String, Object> client(String bootstrap, Map<String, ?> kafka) {
    Map<String, Object> client = new HashMap<>(kafka);
    client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    return client;
  }

  /** One line on why a client made from {@code client} failed with {@code e}. */
  public static String explain(Map<String, ?> client, Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof SslAuthenticationException) {
        return "TLS handshake with "
            + describe(client)
            + " failed (does ssl.truststore.location hold the broker's CA?): "
            + rootMessage(c);
      }
      if (c instanceof AuthenticationException) {
        return describe(client) + " refused the credentials: " + rootMessage(c);
      }
      if (c instanceof AuthorizationException) {
        return describe(client) + " denied access: " + rootMessage(c);
      }
    }
    if (e instanceof KafkaException) {
      return "Kafka client settings for " + describe(client) + " were rejected: " + rootMessage(e);
    }
    return "cannot use " + describe(client) + ": " + rootMessage(e);
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() != null ? root.getMessage() : root.toString();
    return root == e || e.getMessage() == null || e.getMessage().contains(message)
        ? message
        : e.getMessage() + ": " + message;
  }

  private static String string(Map<String, ?> client, String key, String otherwise) {
    Object v = client.get(key);
    if (v == null) {
      return otherwise;
    }
    if (v instanceof org.apache.kafka.common.config.types.Password p) {
      return p.value();
    }
    return v.toString();
  }
}
