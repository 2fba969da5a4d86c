package io.prefstream.http;

import static io.prefstream.config.ConfigOption.intOption;
import static io.prefstream.config.ConfigOption.stringOption;

import io.prefstream.config.ConfigOption;
import io.prefstream.config.Settings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The keys of a service's HTTP listener, under its own prefix ({@code ingest.host}, {@code
 * scorer.tls.keystore}, {@code monitor.metrics.port}, ...): defined once here, so that ingest, the
 * scorer and the monitor bind, serve TLS and expose their meters alike.
 */
public final class ListenerOptions {

  private final ConfigOption<String> host;
  private final ConfigOption<Integer> port;
  private final ConfigOption<String> keystore;
  private final ConfigOption<String> keystorePassword;
  private final ConfigOption<String> keystoreType;
  private final ConfigOption<String> metricsHost;
  private final ConfigOption<Integer> metricsPort;

  /**
   * @param service the key prefix
   * @param defaultPort the API's port when {@code SERVICE.port} is not set
   */
  public ListenerOptions(String service, int defaultPort) {
    host =
        stringOption(
            service + ".host",
            "0.0.0.0",
            "Interface the API binds (127.0.0.1: this host only; `up` and `demo` use"
                + " 127.0.0.1 unless given --bind).");
    port = intOption(service + ".port", defaultPort, 0, 65535, "API port; 0 picks a free one.");
    keystore =
        stringOption(
            service + ".tls.keystore",
            "",
            "Keystore (PKCS12 or JKS) with the server's certificate and key: the API then"
                + " speaks HTTPS only. Empty: plain HTTP (put a TLS-terminating proxy in front).");
    keystorePassword =
        stringOption(
            service + ".tls.keystore-password",
            "",
            "Password of the keystore and its key; best given by environment variable.");
    keystoreType =
        stringOption(service + ".tls.keystore-type", "PKCS12", "Keystore type: PKCS12 or JKS.");
    metricsHost =
        stringOption(
            service + ".metrics.host",
            "",
            "Interface the /metrics listener binds; empty: the API's interface.");
    metricsPort =
        intOption(
            service + ".metrics.port",
            -1,
            -1,
            65535,
            "Port of the /metrics listener, apart from the API's (its meters name every tenant);"
                + " -1: the API's port + 1000, or a free one when the API's port is 0.");
  }

  public ConfigOption<String> host() {
    return host;
  }

  public ConfigOption<Integer> port() {
    return port;
  }

  public List<ConfigOption<?>> all() {
    return List.of(host, port, keystore, keystorePassword, keystoreType, metricsHost, metricsPort);
  }

  /** These keys and then {@code others}: a service's whole list of keys. */
  public List<ConfigOption<?>> and(List<ConfigOption<?>> others) {
    List<ConfigOption<?>> both = new ArrayList<>(all());
    both.addAll(others);
    return List.copyOf(both);
  }

  /** The listener these keys describe in {@code settings}. */
  public HttpListener read(Settings settings) {
    String store = settings.get(keystore).strip();
    HttpListener.Tls tls =
        store.isEmpty()
            ? null
            : new HttpListener.Tls(
                Path.of(store), settings.get(keystorePassword), settings.get(keystoreType));
    String apiHost = settings.get(host).strip();
    String mHost = settings.get(metricsHost).strip();
    try {
      return new HttpListener(
          apiHost,
          settings.get(port),
          tls,
          mHost.isEmpty() ? apiHost : mHost,
          settings.get(metricsPort));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(metricsPort.key() + ": " + e.getMessage(), e);
    }
  }
}
