/** Names for the API's shapes, all taken from the generated OpenAPI types. */
import type { components } from "./schema";

type Schemas = components["schemas"];

export type User = Schemas["UserOut"];
export type Tokens = Schemas["TokensOut"];
export type Wishlist = Schemas["WishlistOut"];
export type WishlistDetail = Schemas["WishlistDetailOut"];
export type WishlistCreate = Schemas["WishlistCreate"];
export type WishlistPatch = Schemas["WishlistPatch"];
export type Item = Schemas["ItemOut"];
export type ViewerItem = Schemas["ViewerItemOut"];
export type ItemCreate = Schemas["ItemCreate"];
export type ItemPatch = Schemas["ItemPatch"];
export type Share = Schemas["ShareOut"];
export type Link = Schemas["LinkOut"];
export type Reservation = Schemas["ReservationOut"];
export type Notification = Schemas["Notification"];
export type EmailPreferences = Schemas["EmailPreferences"];
export type EmailKind = EmailPreferences["kinds"][number];
export type LinkPreview = Schemas["LinkPreviewOut"];
export type ImportResult = Schemas["ImportResult"];
export type Group = Schemas["GroupOut"];
export type GroupDetail = Schemas["GroupDetailOut"];
export type GroupMember = Schemas["MemberOut"];
export type GroupWishlist = Schemas["GroupWishlistOut"];
export type GroupShare = Schemas["GroupShareOut"];
export type Reserver = ViewerItem["reserved_by"][number];
export type Reveal = Schemas["RevealOut"];
export type ReceivedItem = Reveal["received"][number];
export type Giver = ReceivedItem["given_by"][number];
export type ArchivedItem = Schemas["ArchivePage"]["items"][number];

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** A viewer's items carry what is reserved; the owner's never do. */
export function isViewerItem(item: Item | ViewerItem): item is ViewerItem {
  return "reserved_quantity" in item;
}
