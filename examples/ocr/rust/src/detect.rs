//! From the detection model's probability map to text boxes: PaddleOCR's DB post-processing
//! (threshold, connected regions, the smallest rotated rectangle around each, its mean
//! probability, and the rectangle grown by the "unclip" distance), then the boxes in reading
//! order. ../../pipeline.mjs does the same in JavaScript.

/// A box: top-left, top-right, bottom-right, bottom-left, as (x, y).
pub type Quad = [[f32; 2]; 4];

/// A pixel is text where the map is over this.
const THRESHOLD: f32 = 0.3;
/// A region is kept when its box's mean probability is at least this.
const BOX_THRESHOLD: f32 = 0.6;
/// The most regions looked at.
const MAX_CANDIDATES: usize = 1000;
/// The box grows by area * UNCLIP / perimeter on every side.
const UNCLIP: f32 = 1.5;
/// Boxes shorter than this on a side are dropped (before unclipping; +2 after).
const MIN_SIZE: f32 = 3.0;

/// The text boxes of the map pred (width x height, probabilities), in the coordinates of the
/// source picture (source_width x source_height), in reading order.
pub fn boxes(pred: &[f32], width: usize, height: usize, source_width: usize, source_height: usize) -> Vec<Quad> {
    let mut bitmap: Vec<u8> = pred.iter().map(|&p| (p > THRESHOLD) as u8).collect();
    let mut found = Vec::new();
    let mut stack = Vec::new();
    let mut pixels: Vec<(usize, usize)> = Vec::new();
    let mut candidates = 0;
    for start in 0..width * height {
        if bitmap[start] != 1 {
            continue;
        }
        if candidates == MAX_CANDIDATES {
            break;
        }
        candidates += 1;
        // the 8-connected region of start, marked 2 as it is visited
        pixels.clear();
        bitmap[start] = 2;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % width, i / width);
            pixels.push((x, y));
            for ny in y.saturating_sub(1)..(y + 2).min(height) {
                for nx in x.saturating_sub(1)..(x + 2).min(width) {
                    let j = ny * width + nx;
                    if bitmap[j] == 1 {
                        bitmap[j] = 2;
                        stack.push(j);
                    }
                }
            }
        }
        if let Some(quad) = region_box(&pixels, pred, width, height) {
            found.push(scale(&quad, width, height, source_width, source_height));
        }
    }
    let mut kept: Vec<Quad> = found
        .into_iter()
        .map(|q| clip(&q, source_width, source_height))
        .filter(|q| (distance(q[0], q[1]) as usize) > 3 && (distance(q[0], q[3]) as usize) > 3)
        .collect();
    reading_order(&mut kept);
    kept
}

/// The box of one region (its pixels), or None when it is too thin or too faint.
fn region_box(pixels: &[(usize, usize)], pred: &[f32], width: usize, height: usize) -> Option<Quad> {
    // the leftmost and rightmost pixel of each row span the region's convex hull
    let top = pixels.iter().map(|p| p.1).min()?;
    let bottom = pixels.iter().map(|p| p.1).max()?;
    let mut spans = vec![(usize::MAX, 0usize); bottom - top + 1];
    for &(x, y) in pixels {
        let s = &mut spans[y - top];
        s.0 = s.0.min(x);
        s.1 = s.1.max(x);
    }
    let mut points = Vec::with_capacity(spans.len() * 2);
    for (row, &(left, right)) in spans.iter().enumerate() {
        points.push([left as f32, (top + row) as f32]);
        if right != left {
            points.push([right as f32, (top + row) as f32]);
        }
    }
    let hull = convex_hull(points);
    let (quad, w, h) = min_area_rect(&hull)?;
    if w.min(h) < MIN_SIZE {
        return None;
    }
    if box_score(&quad, pred, width, height) < BOX_THRESHOLD {
        return None;
    }
    // the rectangle grown by d on every side (the rounded offset polygon's smallest rectangle)
    let d = area(&quad) * UNCLIP / perimeter(&quad);
    if (w + 2.0 * d).min(h + 2.0 * d) < MIN_SIZE + 2.0 {
        return None;
    }
    Some(grow(&quad, d))
}

/// Andrew's monotone chain: the hull of points, counterclockwise (in y-down coordinates, as seen).
fn convex_hull(mut points: Vec<[f32; 2]>) -> Vec<[f32; 2]> {
    points.sort_by(|a, b| a[0].partial_cmp(&b[0]).unwrap().then(a[1].partial_cmp(&b[1]).unwrap()));
    points.dedup();
    if points.len() < 3 {
        return points;
    }
    let cross = |o: [f32; 2], a: [f32; 2], b: [f32; 2]| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    let mut hull: Vec<[f32; 2]> = Vec::with_capacity(points.len() + 1);
    for pass in 0..2 {
        let start = hull.len();
        let ordered: Box<dyn Iterator<Item = &[f32; 2]>> =
            if pass == 0 { Box::new(points.iter()) } else { Box::new(points.iter().rev()) };
        for &p in ordered {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// The smallest rectangle around the convex polygon hull (one of its sides lies on a side of
/// the hull): its corners in get_mini_boxes' order (top-left, top-right, bottom-right,
/// bottom-left, told apart by x then y) and its two side lengths.
fn min_area_rect(hull: &[[f32; 2]]) -> Option<(Quad, f32, f32)> {
    if hull.len() < 3 {
        return None;
    }
    let mut best: Option<(f32, Quad, f32, f32)> = None;
    for i in 0..hull.len() {
        let a = hull[i];
        let b = hull[(i + 1) % hull.len()];
        let len = distance(a, b);
        if len == 0.0 {
            continue;
        }
        let (ux, uy) = ((b[0] - a[0]) / len, (b[1] - a[1]) / len);
        let (mut lo_u, mut hi_u, mut lo_v, mut hi_v) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in hull {
            let (dx, dy) = (p[0] - a[0], p[1] - a[1]);
            let (u, v) = (dx * ux + dy * uy, -dx * uy + dy * ux);
            lo_u = lo_u.min(u);
            hi_u = hi_u.max(u);
            lo_v = lo_v.min(v);
            hi_v = hi_v.max(v);
        }
        let (w, h) = (hi_u - lo_u, hi_v - lo_v);
        if best.as_ref().map_or(true, |b| w * h < b.0) {
            let corner = |u: f32, v: f32| [a[0] + u * ux - v * uy, a[1] + u * uy + v * ux];
            let corners = [corner(lo_u, lo_v), corner(hi_u, lo_v), corner(hi_u, hi_v), corner(lo_u, hi_v)];
            best = Some((w * h, corners, w, h));
        }
    }
    best.map(|(_, corners, w, h)| (order(corners), w, h))
}

/// Four corners as get_mini_boxes orders them: the two leftmost (by x) give the top-left and
/// bottom-left (by y), the two others the top-right and bottom-right.
fn order(mut p: Quad) -> Quad {
    p.sort_by(|a, b| a[0].partial_cmp(&b[0]).unwrap());
    let (tl, bl) = if p[1][1] > p[0][1] { (p[0], p[1]) } else { (p[1], p[0]) };
    let (tr, br) = if p[3][1] > p[2][1] { (p[2], p[3]) } else { (p[3], p[2]) };
    [tl, tr, br, bl]
}

/// The mean probability inside the quad (whole pixels whose centres are in it or on its sides,
/// with its corners truncated to whole pixels as OpenCV's fillPoly takes them).
fn box_score(q: &Quad, pred: &[f32], width: usize, height: usize) -> f32 {
    let clamp = |v: f32, max: usize| (v.max(0.0) as usize).min(max - 1);
    let x0 = clamp(q.iter().map(|p| p[0]).fold(f32::MAX, f32::min).floor(), width);
    let x1 = clamp(q.iter().map(|p| p[0]).fold(f32::MIN, f32::max).ceil(), width);
    let y0 = clamp(q.iter().map(|p| p[1]).fold(f32::MAX, f32::min).floor(), height);
    let y1 = clamp(q.iter().map(|p| p[1]).fold(f32::MIN, f32::max).ceil(), height);
    let corners: Vec<[f32; 2]> =
        q.iter().map(|p| [(p[0] - x0 as f32).trunc() + x0 as f32, (p[1] - y0 as f32).trunc() + y0 as f32]).collect();
    let (mut sum, mut count) = (0f64, 0usize);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let p = [x as f32, y as f32];
            let (mut positive, mut negative) = (false, false);
            for i in 0..4 {
                let (a, b) = (corners[i], corners[(i + 1) % 4]);
                let cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
                positive |= cross > 1e-4;
                negative |= cross < -1e-4;
            }
            if !(positive && negative) {
                sum += pred[y * width + x] as f64;
                count += 1;
            }
        }
    }
    if count == 0 {
        0.0
    } else {
        (sum / count as f64) as f32
    }
}

fn distance(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

fn area(q: &Quad) -> f32 {
    let mut twice = 0.0;
    for i in 0..4 {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        twice += a[0] * b[1] - b[0] * a[1];
    }
    (twice / 2.0).abs()
}

fn perimeter(q: &Quad) -> f32 {
    (0..4).map(|i| distance(q[i], q[(i + 1) % 4])).sum()
}

/// The rectangle q grown by d on each side (its centre and directions kept).
fn grow(q: &Quad, d: f32) -> Quad {
    let unit = |a: [f32; 2], b: [f32; 2]| {
        let len = distance(a, b).max(1e-6);
        [(b[0] - a[0]) / len, (b[1] - a[1]) / len]
    };
    let across = unit(q[0], q[1]); // top-left to top-right
    let down = unit(q[0], q[3]); // top-left to bottom-left
    let out = |p: [f32; 2], su: f32, sv: f32| [p[0] + d * (su * across[0] + sv * down[0]), p[1] + d * (su * across[1] + sv * down[1])];
    order([out(q[0], -1.0, -1.0), out(q[1], 1.0, -1.0), out(q[2], 1.0, 1.0), out(q[3], -1.0, 1.0)])
}

/// q from the map's coordinates to the picture's, rounded and clamped to [0, size].
fn scale(q: &Quad, width: usize, height: usize, source_width: usize, source_height: usize) -> Quad {
    let mut out = *q;
    for p in out.iter_mut() {
        p[0] = (p[0] / width as f32 * source_width as f32).round().max(0.0).min(source_width as f32);
        p[1] = (p[1] / height as f32 * source_height as f32).round().max(0.0).min(source_height as f32);
    }
    out
}

/// q clamped into the picture's pixels.
fn clip(q: &Quad, width: usize, height: usize) -> Quad {
    let mut out = *q;
    for p in out.iter_mut() {
        p[0] = p[0].max(0.0).min((width - 1) as f32);
        p[1] = p[1].max(0.0).min((height - 1) as f32);
    }
    out
}

/// Top to bottom, then left to right, where boxes whose tops are within 10 pixels count as
/// one line (PaddleOCR's sorted_boxes).
fn reading_order(boxes: &mut [Quad]) {
    boxes.sort_by(|a, b| a[0][1].partial_cmp(&b[0][1]).unwrap().then(a[0][0].partial_cmp(&b[0][0]).unwrap()));
    for i in 0..boxes.len().saturating_sub(1) {
        let mut j = i;
        loop {
            if (boxes[j + 1][0][1] - boxes[j][0][1]).abs() < 10.0 && boxes[j + 1][0][0] < boxes[j][0][0] {
                boxes.swap(j, j + 1);
            } else {
                break;
            }
            if j == 0 {
                break;
            }
            j -= 1;
        }
    }
}
