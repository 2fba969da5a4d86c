package io.prefstream.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.schemas.JsonForm;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own error answers as the same {@code {error, reason}} JSON as the services' (they were
 * HTML): requests Jetty refuses before any route sees them, such as headers too large (431), a
 * malformed request line or URI (400), or a URI too long (414).
 */
final class JsonErrorHandler extends ErrorHandler {

  @Override
  protected void generateResponse(
      Request request,
      Response response,
      int code,
      String message,
      Throwable cause,
      Callback callback)
      throws IOException {
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.write(true, ByteBuffer.wrap(body(code, message)), callback);
  }

  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    fields.put(HttpHeader.CONTENT_TYPE, "application/json");
    return ByteBuffer.wrap(body(status, reason));
  }

  static byte[] body(int status, String message) {
    ObjectNode body = JsonForm.mapper().createObjectNode();
    body.put(
        "error",
        switch (status) {
          case 400 -> "bad_request";
          case 413 -> "body_too_large";
          case 414 -> "uri_too_long";
          case 431 -> "headers_too_large";
          default -> "http_" + status;
        });
    String reason = HttpStatus.getMessage(status);
    body.put(
        "reason",
        message == null || message.isBlank() || message.equals(reason)
            ? reason
            : reason + ": " + message);
    return HttpErrors.json(body);
  }
}
