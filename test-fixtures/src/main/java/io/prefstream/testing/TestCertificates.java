package io.prefstream.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed server certificate for {@code localhost} and {@code 127.0.0.1}, made by the JDK's
 * own {@code keytool} (nothing downloaded), with a truststore that trusts it: for tests of TLS
 * listeners (the services' HTTPS, a SASL_SSL broker).
 *
 * @param keystore PKCS12 holding the key and certificate, password {@link #PASSWORD}
 * @param truststore PKCS12 holding the certificate, password {@link #PASSWORD}
 */
public record TestCertificates(Path keystore, Path truststore) {

  public static final String PASSWORD = "test-store-pw";

  /** Makes the keystore and truststore under {@code dir}. */
  public static TestCertificates create(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path keystore = dir.resolve("server.p12");
    Path certificate = dir.resolve("server.pem");
    Path truststore = dir.resolve("trust.p12");
    keytool(
        "-genkeypair",
        "-alias",
        "server",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "2",
        "-dname",
        "CN=localhost",
        "-ext",
        "SAN=dns:localhost,ip:127.0.0.1",
        "-storetype",
        "PKCS12",
        "-keystore",
        keystore.toString(),
        "-storepass",
        PASSWORD,
        "-keypass",
        PASSWORD);
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "server",
        "-keystore",
        keystore.toString(),
        "-storepass",
        PASSWORD,
        "-file",
        certificate.toString());
    keytool(
        "-importcert",
        "-noprompt",
        "-alias",
        "server-ca",
        "-file",
        certificate.toString(),
        "-storetype",
        "PKCS12",
        "-keystore",
        truststore.toString(),
        "-storepass",
        PASSWORD);
    return new TestCertificates(keystore, truststore);
  }

  /** A client TLS context that trusts exactly this certificate. */
  public SSLContext clientContext() throws IOException, GeneralSecurityException {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(truststore)) {
      trust.load(in, PASSWORD.toCharArray());
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IOException("keytool " + args[0] + " failed: " + output);
    }
  }
}
