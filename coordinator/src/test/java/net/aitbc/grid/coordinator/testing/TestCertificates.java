package net.aitbc.grid.coordinator.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import net.aitbc.grid.transport.ClientTls;
import net.aitbc.grid.transport.ServerTls;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A CA of its own for one test class, in a directory: {@code ca.pem}, a server certificate for
 * {@code localhost} and {@code 127.0.0.1} ({@code server.pem}, {@code server.key}), and client
 * certificates with the CN a test asks for. Keys are EC P-256, written as PKCS#8 PEM, as
 * {@code openssl} writes them.
 */
public final class TestCertificates {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  private final Path dir;
  private final X500Name caName;
  private final KeyPair caKey;
  private final X509Certificate caCert;
  private final Map<String, KeyPair> pairs = new ConcurrentHashMap<>();

  private TestCertificates(Path dir, String caCn) throws GeneralSecurityException, IOException {
    this.dir = Files.createDirectories(dir);
    this.caName = new X500Name("CN=" + caCn);
    this.caKey = keyPair();
    JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
    X509v3CertificateBuilder b = builder(caName, caKey)
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
        .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(caKey.getPublic()));
    this.caCert = sign(b, caKey.getPrivate());
    writePem(dir.resolve("ca.pem"), "CERTIFICATE", caCert.getEncoded());
    X509v3CertificateBuilder server = builder(new X500Name("CN=localhost"), keyPairFor("server"))
        .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
            new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}))
        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
    issue("server", server);
  }

  /** A new CA (named {@code caCn}) with a server certificate, in {@code dir}. */
  public static TestCertificates create(Path dir, String caCn) {
    try {
      return new TestCertificates(dir, caCn);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make test certificates", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The CA certificate's PEM file. */
  public Path ca() {
    return dir.resolve("ca.pem");
  }

  /** The server certificate and key, asking for client certificates of this CA when {@code clientCa}. */
  public ServerTls server(boolean clientCa) {
    return new ServerTls(dir.resolve("server.pem"), dir.resolve("server.key"), clientCa ? ca() : null);
  }

  /** TLS that trusts this CA and presents no certificate. */
  public ClientTls trust() {
    return new ClientTls(ca(), null, null);
  }

  /** TLS that trusts this CA and presents a new client certificate with subject {@code CN=cn}, signed by it. */
  public ClientTls client(String cn) {
    String name = "client-" + SERIAL.incrementAndGet();
    KeyPair pair = keyPairFor(name);
    try {
      issue(name, builder(new X500Name("CN=" + cn), pair)
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new ClientTls(ca(), dir.resolve(name + ".pem"), dir.resolve(name + ".key"));
  }

  /** A JDK HTTP client that trusts this CA. */
  public HttpClient httpClient() {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", caCert);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(null, tmf.getTrustManagers(), null);
      return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot trust the test CA", e);
    }
  }

  private KeyPair keyPairFor(String name) {
    return pairs.computeIfAbsent(name, n -> {
      try {
        return keyPair();
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  private void issue(String name, X509v3CertificateBuilder b) throws IOException {
    try {
      X509Certificate cert = sign(b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature)),
          caKey.getPrivate());
      KeyPair pair = pairs.get(name);
      writePem(dir.resolve(name + ".pem"), "CERTIFICATE", cert.getEncoded());
      writePem(dir.resolve(name + ".key"), "PRIVATE KEY", pair.getPrivate().getEncoded());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot issue " + name, e);
    }
  }

  private X509v3CertificateBuilder builder(X500Name subject, KeyPair subjectKey) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(caName, BigInteger.valueOf(SERIAL.incrementAndGet()),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject,
        subjectKey.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static KeyPair keyPair() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    return g.generateKeyPair();
  }

  private static void writePem(Path file, String type, byte[] der) throws IOException {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    Files.writeString(file, "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n");
  }
}
