package io.prefstream.http;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Where a service listens: its API on {@code host:port}, over TLS when a keystore is given, and its
 * {@code /metrics} apart, on {@code metricsHost:metricsPort}, so that the API's port can face
 * tenants while the meters (which name every tenant) stay with the operator's scraper. Read from
 * {@link ListenerOptions}.
 *
 * @param tls the server's certificate, or null for plain HTTP
 * @param metricsPort 0 for a free one, -1 for the API's port + 1000 (a free one when the API's port
 *     is 0)
 */
public record HttpListener(String host, int port, Tls tls, String metricsHost, int metricsPort) {

  public HttpListener {
    int metrics = metricsPort(port, metricsPort);
    if (metrics > 65535) {
      throw new IllegalArgumentException(
          "the metrics port, the API's port " + port + " + 1000, is beyond 65535: set it");
    }
    if (metrics != 0 && metrics == port) {
      throw new IllegalArgumentException(
          "the metrics port must differ from the API's port " + port);
    }
  }

  private static int metricsPort(int port, int metricsPort) {
    return metricsPort != -1 ? metricsPort : port == 0 ? 0 : port + 1000;
  }

  /** The port {@code /metrics} is served on (0: a free one). */
  public int resolvedMetricsPort() {
    return metricsPort(port, metricsPort);
  }

  /** This listener with the API on {@code newPort}. */
  public HttpListener withPort(int newPort) {
    return new HttpListener(host, newPort, tls, metricsHost, metricsPort);
  }

  /** A keystore holding the server's certificate chain and private key. */
  public record Tls(Path keystore, String password, String type) {

    /**
     * Loads the keystore, failing with the path and the reason (missing, wrong password, not a
     * keystore of this type, no key in it).
     */
    KeyStore load() {
      if (!Files.isReadable(keystore)) {
        throw new IllegalArgumentException("TLS keystore " + keystore + " cannot be read");
      }
      try (InputStream in = Files.newInputStream(keystore)) {
        KeyStore store = KeyStore.getInstance(type);
        store.load(in, password.toCharArray());
        boolean hasKey = false;
        for (var aliases = store.aliases(); aliases.hasMoreElements(); ) {
          hasKey |= store.isKeyEntry(aliases.nextElement());
        }
        if (!hasKey) {
          throw new IllegalArgumentException(
              "TLS keystore " + keystore + " holds no private key (only certificates)");
        }
        return store;
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalArgumentException(
            "TLS keystore "
                + keystore
                + " ("
                + type
                + ") cannot be opened: "
                + e.getMessage()
                + " (wrong password or type?)",
            e);
      }
    }
  }

  public String scheme() {
    return tls == null ? "http" : "https";
  }

  /**
   * Prepares {@code cfg} for this listener: with TLS, the only connector is an HTTPS one (HTTP/1.1
   * over TLS, the keystore checked here so a bad one fails at start with its reason).
   */
  public void configure(JavalinConfig cfg) {
    if (tls == null) {
      return;
    }
    KeyStore store = tls.load();
    cfg.jetty.addConnector(
        (server, http) -> {
          SslContextFactory.Server ssl = new SslContextFactory.Server();
          ssl.setKeyStore(store);
          ssl.setKeyStorePassword(tls.password());
          SecureRequestCustomizer secure = new SecureRequestCustomizer();
          // Clients check the certificate; a client reaching us by IP must not be refused.
          secure.setSniHostCheck(false);
          http.addCustomizer(secure);
          ServerConnector connector =
              new ServerConnector(
                  server,
                  new SslConnectionFactory(ssl, HttpVersion.HTTP_1_1.asString()),
                  new HttpConnectionFactory(http));
          connector.setHost(host);
          connector.setPort(port);
          return connector;
        });
  }

  /** Starts {@code app}, configured by {@link #configure}, on this listener. */
  public Javalin start(Javalin app) {
    return tls == null ? app.start(host, port) : app.start();
  }

  /**
   * The address of a server on {@code boundHost}:{@code boundPort}, as a client here reaches it.
   */
  public static URI uri(String scheme, String boundHost, int boundPort) {
    String h = boundHost == null ? "" : boundHost;
    String reach =
        switch (h) {
          case "", "0.0.0.0", "::", "127.0.0.1", "localhost" -> "localhost";
          default -> h.contains(":") ? "[" + h + "]" : h;
        };
    return URI.create(scheme + "://" + reach + ":" + boundPort);
  }

  /** The API's address once started on {@code boundPort}. */
  public URI uri(int boundPort) {
    return uri(scheme(), host, boundPort);
  }
}
