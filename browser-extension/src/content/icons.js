/** Badge icons: static SVG path data on a 16×16 grid (built with createElementNS). */

export const ICON_PATHS = Object.freeze({
  // a rosette with a check: signed by a signer the operator trusts
  trusted: ['M8 1l1.8 1.3 2.2-.2.7 2.1 1.8 1.3-.7 2.1.7 2.1-1.8 1.3-.7 2.1-2.2-.2L8 15l-1.8-1.3-2.2.2-.7-2.1L1.5 10.5l.7-2.1-.7-2.1 1.8-1.3.7-2.1 2.2.2z', 'M5.2 8.2l1.9 1.9 3.7-3.9'],
  // a plain check: valid signature, signer unknown
  verified: ['M3 8.5l3.2 3.2L13 4.6'],
  // an approximately-equal sign: resembles signed content
  similar: ['M3 6.2c1.6-1.4 3.4-1.4 5 0s3.4 1.4 5 0', 'M3 10.2c1.6-1.4 3.4-1.4 5 0s3.4 1.4 5 0'],
  // a question mark: nothing verifies
  unverified: ['M5.6 5.8a2.4 2.4 0 1 1 3.5 2.1c-.8.4-1.1.9-1.1 1.7v.4', 'M8 12.6v.1'],
  // an exclamation mark: suspicious
  suspicious: ['M8 3.2v6', 'M8 12.4v.1'],
  // a struck circle: spam
  spam: ['M8 2.2a5.8 5.8 0 1 0 0 11.6A5.8 5.8 0 1 0 8 2.2z', 'M3.9 3.9l8.2 8.2'],
  // a cross: tampered
  tampered: ['M4 4l8 8', 'M12 4l-8 8'],
  // a warning triangle: the answer could not be trusted
  error: ['M8 2.2l6.2 11H1.8z', 'M8 6.4v3.4', 'M8 11.4v.1'],
  // three dots: checking
  checking: ['M3.5 8h.1', 'M8 8h.1', 'M12.5 8h.1'],
});

const SVG_NS = 'http://www.w3.org/2000/svg';

export function createIcon(doc, state) {
  const svg = doc.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '12');
  svg.setAttribute('height', '12');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  for (const d of ICON_PATHS[state] ?? ICON_PATHS.error) {
    const path = doc.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}
