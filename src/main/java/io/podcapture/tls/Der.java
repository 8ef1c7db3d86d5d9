package io.podcapture.tls;

import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;

/** One DER element: its tag, where its content starts and where it ends; and DER writing. */
record Der(byte tag, int contentStart, int end) {

  /** The element at {@code at}; lengths of up to three bytes (16 MiB), as keys need. */
  static Der read(byte[] der, int at) throws GeneralSecurityException {
    if (at + 2 > der.length) {
      throw new GeneralSecurityException("truncated DER");
    }
    byte tag = der[at];
    int length = der[at + 1] & 0xff;
    int start = at + 2;
    if (length >= 0x80) {
      int bytes = length & 0x7f;
      if (bytes == 0 || bytes > 3 || start + bytes > der.length) {
        throw new GeneralSecurityException("bad DER length");
      }
      length = 0;
      for (int i = 0; i < bytes; i++) {
        length = (length << 8) | (der[start + i] & 0xff);
      }
      start += bytes;
    }
    if (start + length > der.length) {
      throw new GeneralSecurityException("truncated DER");
    }
    return new Der(tag, start, start + length);
  }

  /** Tag, definite length, content. */
  static byte[] encode(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n & 0xff);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write((n >> 8) & 0xff);
      out.write(n & 0xff);
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
