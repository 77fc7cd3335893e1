package net.aitbc.grid.coordinator.auth;

import io.grpc.Grpc;
import io.grpc.ServerCall;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;
import org.jspecify.annotations.Nullable;

/**
 * The rule for worker client certificates (mutual TLS). Only when the coordinator is given a client
 * CA does a client certificate count, and only on the WorkerService stream: TLS has already checked
 * that it chains to that CA, and the certificate's subject CN is then the owner's client id (what
 * {@code grid keys create --role worker --client-id} would give a key), with the role worker and
 * default limits. A certificate never makes a client or an admin; elsewhere it is ignored and a key
 * is needed. The {@link AuthInterceptor} refuses a key sent alongside that is not a worker key of
 * that same client id.
 */
final class ClientCertificates {
  private ClientCertificates() {}

  /**
   * The worker principal of the call's client certificate, or null when it presented none; throws
   * {@link IllegalArgumentException} naming what is wrong with a certificate that cannot name an owner.
   */
  static @Nullable Principal worker(ServerCall<?, ?> call) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return null;
    }
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate cert)) {
      return null;
    }
    return new Principal(owner(cert.getSubjectX500Principal()), Role.WORKER, keyId(cert), KeyLimits.DEFAULT);
  }

  /** The one CN of {@code subject}, the owner's client id. */
  static String owner(X500Principal subject) {
    List<Rdn> cns;
    try {
      cns = new LdapName(subject.getName(X500Principal.RFC2253)).getRdns().stream()
          .filter(rdn -> rdn.getType().equalsIgnoreCase("CN")).toList();
    } catch (InvalidNameException e) {
      throw new IllegalArgumentException("the client certificate's subject cannot be read", e);
    }
    if (cns.size() != 1 || !(cns.getFirst().getValue() instanceof String cn) || cn.isBlank()) {
      throw new IllegalArgumentException("the client certificate's subject must have exactly one CN, the owner's "
          + "client id; it is " + subject.getName());
    }
    return cn.strip();
  }

  private static String keyId(X509Certificate cert) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
      return Principal.CERTIFICATE_PREFIX + HexFormat.of().formatHex(hash, 0, 8);
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException("cannot hash a certificate TLS accepted", e);
    }
  }
}
