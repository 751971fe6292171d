"use strict";
// KMS for the command: the listing `dmabuf info` prints (each card node
// opened without taking DRM master) and the display `dmabuf demo --sink kms`
// shows its frames on.
Object.defineProperty(exports, "__esModule", { value: true });
exports.modeName = modeName;
exports.refreshHz = refreshHz;
exports.cardNodes = cardNodes;
exports.listKms = listKms;
const d = require("../../index");
/** A mode as people write it: `1024x768@60`. */
function modeName(m) {
    return `${m.hdisplay}x${m.vdisplay}@${m.vrefresh}`;
}
/** The refresh rate a mode's timings give (pixel clock over the frame's total pixels), in Hz; `vrefresh` when the timings are zero. */
function refreshHz(m) {
    const total = m.htotal * m.vtotal;
    return total > 0 && m.clock > 0 ? (m.clock * 1000) / total : m.vrefresh;
}
/** The card nodes (`/dev/dri/card*`; render nodes cannot modeset), in name order. */
function cardNodes() {
    let nodes;
    try {
        nodes = d.DrmDevice.list();
    }
    catch {
        return [];
    }
    return nodes.filter((p) => /\/card\d+$/.test(p)).sort((a, b) => Number(a.replace(/\D+/g, '')) - Number(b.replace(/\D+/g, '')));
}
/** The driver of a DRM node that Card.open refused (DRM_IOCTL_VERSION through DrmDevice), or null. */
function driverOf(path) {
    try {
        const dev = d.DrmDevice.open(path);
        try {
            return dev.driverName();
        }
        finally {
            dev.close();
        }
    }
    catch {
        return null;
    }
}
function groups(p) {
    const byMods = new Map();
    for (const f of p.formats) {
        const modifiers = (Object.hasOwn(p.modifiers, f) ? p.modifiers[f] : []).map((m) => d.drmModifierName(m));
        const key = modifiers.join(' ');
        const g = byMods.get(key);
        if (g)
            g.formats.push(f);
        else
            byMods.set(key, { modifiers, formats: [f] });
    }
    return [...byMods.values()];
}
/**
 * Lists every card node: opened with `master: false` (DRM master is not
 * taken from a display server, and one the kernel gives a first opener is
 * dropped), so listing never stops another program from committing. A
 * card that will not open is reported, not thrown.
 */
function listKms() {
    return cardNodes().map((path) => {
        let card;
        try {
            card = d.Card.open(path, { master: false });
        }
        catch (e) {
            const err = e;
            const reason = err.message.replace(/^E[A-Z0-9]+: /, '').replace(/, Card\.open$/, '');
            if (err.code === 'EOPNOTSUPP')
                return { path, driver: driverOf(path), status: 'not-kms', reason: 'no KMS modesetting (a render-only or buffer-only driver)' };
            return { path, driver: driverOf(path), status: 'error', code: err.code ?? 'unknown', reason };
        }
        try {
            return {
                path,
                driver: card.driverName(),
                status: 'kms',
                connectors: card.connectors().map((c) => {
                    const pref = c.modes.find((m) => m.preferred);
                    return { id: c.id, name: c.name, type: c.type, status: c.status, modes: c.modes.length, preferred: pref ? modeName(pref) : null, possibleCrtcs: c.possibleCrtcs };
                }),
                crtcs: card.crtcs().map((c) => ({ id: c.id, index: c.index, mode: c.mode ? modeName(c.mode) : null, fbId: c.fbId })),
                planes: card.planes().map((p) => ({ id: p.id, type: p.type, possibleCrtcs: p.possibleCrtcs, crtcId: p.crtcId, fbId: p.fbId, formats: groups(p) })),
            };
        }
        catch (e) {
            const err = e;
            return { path, driver: null, status: 'error', code: err.code ?? 'unknown', reason: err.message };
        }
        finally {
            card.close();
        }
    });
}
