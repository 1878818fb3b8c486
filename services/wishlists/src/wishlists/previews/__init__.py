"""Link previews: the one place where wishlists fetches a URL that a user supplied.

Anything a user can make the server fetch is a way into the server's network
(server-side request forgery), so every fetch goes through :mod:`.guard`'s
rules, and :mod:`.fetch` connects only to the address those rules vetted:

- only ``http``/``https``, no credentials in the URL;
- the host is resolved once, and every address it resolves to must be a
  public unicast address (no loopback, private, link-local, metadata,
  unique-local, CGNAT, multicast, reserved, or IPv6 that embeds such an IPv4);
- the connection goes to that vetted address (no second lookup that a DNS
  rebinding could answer differently), TLS still checked against the name;
- each redirect is checked again, and there are at most a few;
- a time limit on the whole, a size limit on the body, HTML only.

What a page says is read by :mod:`wishlists.domain.previews`.
"""
