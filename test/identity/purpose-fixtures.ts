/** The purposes and service the purpose-consent tests share: a maternal-child handbook app in 仙台市. */
import type { Purpose } from '../../src/consent/index.ts';

export const SERVICE = 'せんだい母子手帳アプリ';

export const PURPOSES: Purpose[] = [
  {
    id: 'telemedicine',
    nameJa: '医療相談',
    nameEn: 'Medical consultation',
    descriptionJa: '夜間・休日の小児科オンライン相談で、医師がお子さまの記録を確認します。',
    descriptionEn: 'A paediatrician checks your child’s records during an online consultation.',
  },
  {
    id: 'event-recommendations',
    nameJa: 'イベントのご案内',
    nameEn: 'Event recommendations',
    descriptionJa: 'お子さまの年齢に合った催しをお知らせします。',
    descriptionEn: 'We tell you about events that suit your child’s age.',
  },
  {
    id: 'maternal-child-health',
    nameJa: '母子保健',
    nameEn: 'Maternal and child health',
    descriptionJa: '母子保健法に基づく妊婦健診・乳幼児健診を行います。',
    descriptionEn: 'Checkups under the Maternal and Child Health Act.',
  },
];
