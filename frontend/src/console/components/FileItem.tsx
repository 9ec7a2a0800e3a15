// A file in a conversation as staff see it (docs/protocol.md §16): a picture, a player for
// sound and video, and always its name to open or save, from GET /api/staff/files/{id} (the
// session cookie rides along; every opening is audited). A place links to a map.
import { coordinates, formatSize, mapLink, type Place } from "@widget/files.js";
import { LINK_ATTRIBUTES } from "@widget/text.js";
import type { Schemas } from "../../api/client";
import { _, locale } from "../i18n";
import { Icon } from "./Icon";

type Attachment = Schemas["AttachmentOut"];

export const fileUrl = (file: Attachment) => `/api/staff/files/${file.id}`;

export function FileItem({ file }: { file: Attachment }) {
  const url = fileUrl(file);
  return (
    <span class="attachment" data-category={file.category}>
      {file.category === "image" && (
        <a href={url} {...LINK_ATTRIBUTES}><img class="attachment-image" src={url} alt={file.name} loading="lazy" /></a>
      )}
      {file.category === "audio" && <audio controls preload="metadata" src={url} aria-label={file.name} />}
      {file.category === "video" && <video controls preload="metadata" src={url} aria-label={file.name} />}
      <a class="attachment-link" href={url} download={file.name}>{file.name} · {formatSize(file.size, locale)}</a>
    </span>
  );
}

export function PlaceItem({ place }: { place: Place }) {
  return (
    <span class="location">
      <Icon name="place" /> {coordinates(place, locale)} <a href={mapLink(place)} {...LINK_ATTRIBUTES}>{_("Open the map")}</a>
    </span>
  );
}
